"""Where moto's stacks behave unlike AWS's, in ways the kit meets: DependsOn, conditions (listing, references; an
update's conditions: sandbox.cfn_updates), a failed delete, `!GetAtt a.b.c`."""

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


def uses_conditions(value: Any, conditions: set[str]) -> bool:
    """Whether a resource's properties choose with Fn::If on one of these conditions."""
    if isinstance(value, dict):
        chosen = value.get("Fn::If")
        if isinstance(chosen, list) and chosen and chosen[0] in conditions:
            return True
        return any(uses_conditions(v, conditions) for v in value.values())
    if isinstance(value, list):
        return any(uses_conditions(v, conditions) for v in value)
    return False


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


def split_get_att_at_the_first_dot(models: Any, responses: Any, utils: Any) -> None:
    """`!GetAtt MyDB.Endpoint.Address`: CloudFormation splits the short form at the first dot (resource MyDB,
    attribute Endpoint.Address); moto's YAML reader splits at every dot, so such an output (AWS's RDS samples have
    them) failed DescribeStacks with "does not support attribute type Endpoint"."""
    read = utils.yaml_tag_constructor
    if getattr(read, "first_dot", False):
        return

    def yaml_tag_constructor(loader: Any, tag: Any, node: Any) -> Any:
        if tag == "!GetAtt" and isinstance(node.value, str):
            return {"Fn::GetAtt": node.value.split(".", 1)}
        return read(loader, tag, node)

    yaml_tag_constructor.first_dot = True  # type: ignore[attr-defined]
    for module in (models, responses, utils):
        module.yaml_tag_constructor = yaml_tag_constructor
