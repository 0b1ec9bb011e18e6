"""Where moto's stacks behave unlike AWS's, in ways the kit meets: DependsOn, conditions (listing, updates), a failed
delete."""

from __future__ import annotations

from typing import Any

from sandbox.cfn_types.base import listed


def honour_depends_on(parsing: Any) -> None:
    """moto creates a resource the first time something refers to it, before what its DependsOn names (AWS never
    does): create those first (a bucket whose notification needs the queue policy, say)."""
    resource_map = parsing.ResourceMap
    if getattr(resource_map.__getitem__, "honours_depends_on", False):
        return
    lookup = resource_map.__getitem__

    def __getitem__(self: Any, key: str) -> Any:
        if key not in self._parsed_resources:
            resource_json = self._resource_json_map.get(key)
            if isinstance(resource_json, dict):
                for dependency in listed(resource_json.get("DependsOn")):
                    if dependency != key and dependency in self._resource_json_map:
                        self[dependency]
        return lookup(self, key)

    __getitem__.honours_depends_on = True  # type: ignore[attr-defined]
    resource_map.__getitem__ = __getitem__


def previous_values_of_defaults(models: Any) -> None:
    """UpdateStack with UsePreviousValue for a parameter the stack took its Default for: moto looks the key up in
    the values the create was given and fails (KeyError, a 500); AWS keeps the value the stack has."""
    backend = models.CloudFormationBackend
    resolve = backend._resolve_update_parameters
    if getattr(resolve, "keeps_defaults", False):
        return

    def _resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict[str, str]]) -> Any:
        given = instance.parameters if isinstance(instance.parameters, dict) else {}
        current = getattr(instance, "stack_parameters", None) or {}
        missing = {p["ParameterKey"]: current[p["ParameterKey"]] for p in incoming_params
                   if p.get("UsePreviousValue") and p["ParameterKey"] not in given and p["ParameterKey"] in current}
        if not missing:
            return resolve(self, instance, incoming_params)
        instance.parameters = {**given, **missing}
        try:
            return resolve(self, instance, incoming_params)
        finally:
            instance.parameters = given

    _resolve_update_parameters.keeps_defaults = True  # type: ignore[attr-defined]
    backend._resolve_update_parameters = _resolve_update_parameters


def list_only_created_resources(models: Any) -> None:
    """moto lists a stack's resources by looking each one up, which creates it when it is not there: a resource
    whose Condition is false comes out as an empty row (boto3 cannot parse it), and one the stack already deleted
    is made again. List what the stack has."""
    stack = models.Stack
    if getattr(stack.stack_resources.fget, "only_created", False):
        return

    def stack_resources(self: Any) -> list[Any]:
        parsed = self.resource_map._parsed_resources
        return [parsed[key] for key in self.resource_map.resources if parsed.get(key) is not None]

    stack_resources.only_created = True  # type: ignore[attr-defined]
    stack.stack_resources = property(stack_resources)


def keep_stacks_whose_delete_failed(models: Any) -> None:
    """moto forgets a stack whose delete raised half way; AWS keeps it as DELETE_FAILED (what is left stays in it,
    and deleting again finishes the job). DeleteStack itself succeeds, as in AWS, where deleting is asynchronous."""
    backend = models.CloudFormationBackend
    if getattr(backend.delete_stack, "keeps_failed", False):
        return
    delete_stack = backend.delete_stack

    def delete_failing_as_aws(self: Any, name_or_stack_id: str) -> None:
        before = dict(self.stacks)
        try:
            delete_stack(self, name_or_stack_id)
        except Exception as exc:  # whatever a resource's delete raised
            for stack_id, stack in before.items():
                if stack_id not in self.stacks and stack_id not in self.deleted_stacks:
                    failed = _failed_resources(stack, exc, models.Event)
                    stack.status = "DELETE_FAILED"
                    stack._add_stack_event("DELETE_FAILED", resource_status_reason=(
                        f"The following resource(s) failed to delete: [{', '.join(failed)}]. "))
                    self.stacks[stack_id] = stack

    delete_failing_as_aws.keeps_failed = True  # type: ignore[attr-defined]
    backend.delete_stack = delete_failing_as_aws


def _reason(exc: BaseException) -> str:
    """The resource's failure as CloudFormation words it: the service's message, then its error code."""
    message = str(getattr(exc, "message", None) or getattr(exc, "description", None) or exc)
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    return f"{message} (Error Code: {code})" if isinstance(code, str) and code else message


def _failed_resources(stack: Any, exc: BaseException, event_class: Any) -> list[str]:
    """As AWS reports a failed delete: each resource still there tried once more on its own, and a DELETE_FAILED
    event with its own reason (a VPC's DependencyViolation, say) for each that still cannot go; their names."""
    resources = stack.resource_map
    failed = []
    for logical_id, parsed in list(resources._parsed_resources.items()):
        resource_json = resources._resource_json_map.get(logical_id)  # parameters share the map: not resources
        if isinstance(parsed, str) or parsed is None or resource_json is None or \
                resource_json.get("DeletionPolicy") == "Retain":
            continue
        try:
            resources._delete_resource(parsed, resource_json)
            resources._parsed_resources.pop(logical_id)
            continue
        except Exception as own:  # noqa: BLE001 - whatever the resource's delete raised is its reason
            reason = _reason(own)
        failed.append(logical_id)
        stack.events.append(event_class(
            stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
            physical_resource_id=getattr(parsed, "physical_resource_id", None) or logical_id,
            resource_type=resource_json.get("Type", ""),
            resource_status="DELETE_FAILED", resource_status_reason=reason, resource_properties=None))
    return failed or [_reason(exc)]


def _uses(value: Any, conditions: set[str]) -> bool:
    """Whether a resource's properties choose with Fn::If on one of these conditions."""
    if isinstance(value, dict):
        chosen = value.get("Fn::If")
        if isinstance(chosen, list) and chosen and chosen[0] in conditions:
            return True
        return any(_uses(v, conditions) for v in value.values())
    if isinstance(value, list):
        return any(_uses(v, conditions) for v in value)
    return False


def follow_condition_changes(parsing: Any) -> None:
    """An update whose parameters turn a condition around (TrailMode Create -> Organization, say): moto compares
    only the resources' text, so the trail stayed and a policy choosing with Fn::If kept its old choice. AWS
    deletes what the condition now excludes, creates what it now includes and updates what chose by it."""
    resource_map = parsing.ResourceMap
    if getattr(resource_map.update, "follows_conditions", False):
        return
    update = resource_map.update

    def update_following_conditions(self: Any, template: dict[str, Any], parameters: Any = None) -> None:
        conditions = getattr(self, "lazy_condition_map", None) or {}
        before = {name: conditions[name] for name in list(conditions)}
        update(self, template, parameters)
        after = {name: self.lazy_condition_map[name] for name in list(self.lazy_condition_map)}
        flipped = {name for name, holds in after.items() if before.get(name) != holds}
        if not flipped:
            return
        resources, parsed = self._resource_json_map, self._parsed_resources
        leaving = [key for key, r in resources.items()
                   if r.get("Condition") in flipped and not after[r["Condition"]] and parsed.get(key) is not None]
        for _attempt in range(len(leaving) + 1):  # in dependency order, as a stack's delete goes
            failed: Exception | None = None
            for key in list(leaving):
                try:
                    if resources[key].get("DeletionPolicy") != "Retain":
                        self._delete_resource(parsed[key], resources[key])
                except Exception as exc:  # something still depends on it: next pass
                    failed = exc
                else:
                    parsed.pop(key)
                    leaving.remove(key)
            if not leaving:
                break
        else:
            raise failed  # type: ignore[misc]
        coming = [key for key, r in resources.items()
                  if r.get("Condition") in flipped and after[r["Condition"]] and parsed.get(key) is None]
        changing = [key for key, r in resources.items()
                    if parsed.get(key) is not None and _uses(r.get("Properties"), flipped)]

        def change(key: str) -> None:
            changed = parsing.parse_and_update_resource(key, resources[key], self, account_id=self._account_id,
                                                        region_name=self._region_name)
            if changed is not None:
                parsed[key] = changed

        for key in coming:
            # what it DependsOn changes first, as CloudFormation goes by the graph (the kit's trail bucket, made
            # again when TrailMode goes back to Create, after its queue policy lets that bucket send again)
            for dependency in listed(resources[key].get("DependsOn")):
                if dependency in changing:
                    changing.remove(dependency)
                    change(dependency)
            self[key]
        for key in changing:
            change(key)

    update_following_conditions.follows_conditions = True  # type: ignore[attr-defined]
    resource_map.update = update_following_conditions


def _condition_references(value: Any) -> Any:
    """`!Condition Name` inside a condition's Fn::And/Or/Not, as moto's YAML reader spells it (Fn::Condition), in
    the form moto's parse_condition follows ({"Condition": Name}); anything else unchanged."""
    if isinstance(value, dict) and list(value) == ["Fn::Condition"]:
        return {"Condition": value["Fn::Condition"]}
    if isinstance(value, dict) and len(value) == 1:
        [(operator, operands)] = value.items()
        if operator in ("Fn::And", "Fn::Or", "Fn::Not") and isinstance(operands, list):
            return {operator: [_condition_references(v) for v in operands]}
    return value


def follow_condition_references(parsing: Any) -> None:
    """A condition made of another (`CreateTrail: !And [..., !Condition InHomeRegion]`): moto's YAML reader turns
    `!Condition X` into {"Fn::Condition": X}, which its parse_condition does not know, so the condition was false
    and its resources silently left out. AWS follows the reference."""
    parse = parsing.parse_condition
    if getattr(parse, "follows_references", False):
        return

    def parse_condition(condition: Any, resources_map: Any, condition_map: Any) -> Any:
        return parse(_condition_references(condition), resources_map, condition_map)

    parse_condition.follows_references = True  # type: ignore[attr-defined]
    parsing.parse_condition = parse_condition
