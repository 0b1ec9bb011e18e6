"""A stack's update as CloudFormation runs it: resource by resource, with AWS's events, and a rollback on failure.

moto 5.2.5 updates a stack inside UpdateStack with two stack events (ExecuteChangeSet: an UPDATE_IN_PROGRESS
without reason), compares only the resources' text, never replaces (an EC2 instance it cannot update even leaves
the stack's resource list), deletes what the new template drops before making anything, never rolls back and
validates no parameter of a change set. Here (`register()`, called by the sandbox server
after sandbox.cfn_types.register, which registers sandbox.cfn_lifecycle):

- UpdateStack and ExecuteChangeSet of an UPDATE change set answer at once with the stack UPDATE_IN_PROGRESS
  ("User Initiated") and run in the background when resources take time (sandbox.cfn_lifecycle's
  `resource_seconds`; at once when 0). UpdateStack on a stack in progress is refused as AWS refuses it, and
  one with the very same template text, values and tags with "No updates are to be performed.".
- What changes is what the change set says (sandbox.cfn_changesets: Add, Modify with Replacement True, Remove),
  plus what a resource's Condition now includes or excludes, what chooses with Fn::If by a condition that turned
  around, and what refers to a replaced resource (its Ref changes: replaced too if the property referring to it
  needs replacement). Replacement Conditional is done in
  place. Resources go in dependency order of the new template:
  - added: CREATE_IN_PROGRESS, CREATE_IN_PROGRESS "Resource creation Initiated", CREATE_COMPLETE;
  - in place: UPDATE_IN_PROGRESS, UPDATE_COMPLETE (moto's own update of the type; an instance's InstanceType,
    UserData, SecurityGroupIds and Tags here, as moto has none);
  - replaced: UPDATE_IN_PROGRESS "Requested update requires the creation of a new physical resource; hence
    creating one." (the old physical id), UPDATE_IN_PROGRESS "Resource creation Initiated" and UPDATE_COMPLETE
    (the new one's).
  Then UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, where the old physical resources of what was replaced
  (UpdateReplacePolicy) and what the template dropped (DeletionPolicy) are deleted, newest first
  (DELETE_IN_PROGRESS, DELETE_COMPLETE; DELETE_SKIPPED for Retain; a final snapshot for Snapshot,
  sandbox.cfn_snapshots), then UPDATE_COMPLETE.
- A resource the service refuses (an image or key pair that does not exist, an instance type EC2 does not offer,
  a replacement of a resource whose template gives it a name it still has, whatever moto raises) is
  UPDATE_FAILED (CREATE_FAILED if added) with the service's reason; the stack goes UPDATE_ROLLBACK_IN_PROGRESS
  ("The following resource(s) failed to update: [X]. "), puts each updated or replaced resource back to its
  previous template and parameters (UPDATE_IN_PROGRESS, UPDATE_COMPLETE; a replaced one gets its old physical
  resource back), UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS deletes the new physical
  resources and what was added, then UPDATE_ROLLBACK_COMPLETE: the stack keeps its previous template, parameters
  and outputs.
- CreateChangeSet refuses parameter values as CreateStack does (sandbox.cfn_params), for CREATE and UPDATE change
  sets (UsePreviousValue: the stack's current value).

Sequences compared with AWS's recorded ones in sandbox/tests/test_cfn_updates.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sandbox import cfn_changesets, cfn_lifecycle, cfn_params
from sandbox.cfn_types.stacks import uses_conditions
from sandbox.cfn_lifecycle import (
    INITIATED, USER_INITIATED, ResourceFailed, _aws_reason, _check, _event, _guarded, _in_background,
    _parameter_values, _pause, _physical_id, _reason, _references, creation_order, delete_each, make_resource,
)

REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."
UNSUPPORTED = ("The requested configuration is currently not supported. Please check the documentation for "
               "supported configurations.")


@dataclass
class _Before:
    """What the stack was before the update: what a rollback gives back."""

    template: Any
    template_dict: dict[str, Any]
    parameters: dict[str, Any]
    input_parameters: dict[str, Any]
    description: Any


# --- the resource map on one template or the other --------------------------------------------------------------

def _switch(resource_map: Any, template: dict[str, Any], input_parameters: dict[str, Any]) -> None:
    """Point moto's resource map at this template and these values (mappings, parameters, conditions)."""
    parsed = resource_map._parsed_resources
    for name in set(resource_map.resolved_parameters) | set(resource_map._template.get("Mappings") or {}):
        if name not in resource_map._resource_json_map:
            parsed.pop(name, None)
    resource_map._template = template
    resource_map.input_parameters = dict(input_parameters)
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template.get("Resources") or {}


def _present(resource_map: Any) -> list[str]:
    """The template's resources its conditions include, in dependency order."""
    resources = resource_map._resource_json_map
    conditions = resource_map.lazy_condition_map
    return [key for key in creation_order(resources)
            if not (resources[key].get("Condition") and not conditions[resources[key]["Condition"]])]


# --- what the update does ---------------------------------------------------------------------------------------

def _actions(stack: Any, template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, str]:
    """Per logical id, what sandbox.cfn_changesets' change set lists: Add, Modify, Replace (Replacement True),
    Remove."""
    changes = cfn_changesets.change_set_changes(
        SimpleNamespace(stack=stack, template_dict=template, parameters=parameters))
    return {c.logical_resource_id: "Replace" if getattr(c, "replacement", "") == "True" else c.action
            for c in changes}


def _replaced_by_reference(spec: dict[str, Any], replaced: set[str]) -> str | None:
    """A resource that refers to a replaced one: Modify, or Replace when a property referring to it needs it."""
    properties = spec.get("Properties") or {}
    touched = [name for name, value in properties.items() if _references(value, replaced)]
    if not touched:
        return None
    rules = cfn_changesets.REQUIRES_RECREATION.get(spec.get("Type", ""), {})
    return "Replace" if any(rules.get(name) == "Always" for name in touched) else "Modify"


def _custom_names(parsing: Any, resource_map: Any, keys: list[str] | None = None) -> dict[str, Any]:
    """The names the template gives its resources (BucketName, GroupName...), as the map resolves them now."""
    names = {}
    parsed = resource_map._parsed_resources
    for key in keys if keys is not None else [k for k in resource_map._resource_json_map if parsed.get(k) is not None]:
        spec = resource_map._resource_json_map.get(key) or {}
        prop = parsing.resource_name_property_from_type(spec.get("Type", "")) if isinstance(spec, dict) else None
        if prop and (spec.get("Properties") or {}).get(prop) is not None:
            try:
                names[key] = parsing.clean_json(spec["Properties"][prop], resource_map)
            except Exception:  # noqa: BLE001 - a name moto cannot resolve: left to the service
                continue
    return names


def _action(key: str, spec: dict[str, Any], old_present: list[str], actions: dict[str, str],
            replaced: set[str], flipped: set[str]) -> str | None:
    """Add, Replace or Modify (None: unchanged): what the change set lists, what refers to a replaced resource,
    what chooses with Fn::If by a condition the new values turned around."""
    if key not in old_present:
        return "Add"
    listed, referring = actions.get(key), _replaced_by_reference(spec, replaced)
    if "Replace" in (listed, referring):
        return "Replace"
    chooses = "Modify" if uses_conditions(spec.get("Properties"), flipped) else None
    return "Modify" if "Modify" in (listed, referring, chooses) else None


def _in_place(stack: Any, parsing: Any, logical_id: str, spec: dict[str, Any]) -> None:
    """Update one resource in place to `spec` (the map already on its template), as its service would."""
    resource_map = stack.resource_map
    _check(resource_map, logical_id, spec, parsing)
    if spec.get("Type") == "AWS::EC2::Instance":
        _instance_in_place(stack, parsing, resource_map._parsed_resources[logical_id], spec)
        return
    changed = parsing.parse_and_update_resource(logical_id, spec, resource_map, account_id=stack.account_id,
                                                region_name=stack.region_name)
    if changed is not None:  # a type moto cannot update keeps its resource, as moto's own update would not
        resource_map._parsed_resources[logical_id] = changed


def _instance_in_place(stack: Any, parsing: Any, instance: Any, spec: dict[str, Any]) -> None:
    """An instance's InstanceType, UserData, SecurityGroupIds and Tags (moto has no update for AWS::EC2::Instance)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    properties = parsing.clean_json(spec.get("Properties") or {}, stack.resource_map)
    kind = properties.get("InstanceType")
    if kind and kind not in INSTANCE_TYPES:  # AWS's answer for a type it cannot give this instance
        raise ResourceFailed(_aws_reason(UNSUPPORTED, "Unsupported"))
    if kind:
        instance.instance_type = kind
    if "UserData" in properties:
        instance.user_data = properties["UserData"]
    ec2 = ec2_backends[stack.account_id][stack.region_name]
    if properties.get("SecurityGroupIds"):  # an instance in a VPC changes its groups without interruption
        ec2.modify_instance_security_groups(instance.id, [str(g) for g in properties["SecurityGroupIds"]])
    wanted = {t["Key"]: str(t["Value"]) for t in properties.get("Tags") or [] if isinstance(t, dict)}
    current = dict(ec2.tags.get(instance.id, {}))
    ec2.delete_tag_keys([instance.id], [k for k in current if not k.startswith("aws:") and k not in wanted])
    if wanted:
        ec2.create_tags([instance.id], wanted)


# --- the update -------------------------------------------------------------------------------------------------

def _run(models: Any, parsing: Any, stack: Any, before: _Before, parameters: dict[str, Any]) -> None:
    resource_map = stack.resource_map
    parsed = resource_map._parsed_resources
    actions = _actions(stack, stack.template_dict, parameters)
    old_present = [key for key in creation_order(before.template_dict.get("Resources") or {})
                   if parsed.get(key) is not None]
    names = _custom_names(parsing, resource_map)
    conditions = {name: resource_map.lazy_condition_map[name] for name in list(resource_map.lazy_condition_map)}
    _switch(resource_map, stack.template_dict, parameters)
    flipped = {name for name in list(resource_map.lazy_condition_map)
               if conditions.get(name) != resource_map.lazy_condition_map[name]}
    new_specs = resource_map._resource_json_map
    present = _present(resource_map)
    done: list[tuple[str, str]] = []
    old_objects: dict[str, Any] = {}  # what replaced resources were
    for key in present:
        spec = new_specs[key]
        action = _action(key, spec, old_present, actions, set(old_objects), flipped)
        if action is None:
            continue
        try:
            if action == "Add":
                _event(models, stack, key, spec, "CREATE_IN_PROGRESS")
                _pause()
                made = _physical_id(make_resource(stack, parsing, key, spec), key)
                _event(models, stack, key, spec, "CREATE_IN_PROGRESS", INITIATED, made)
                _event(models, stack, key, spec, "CREATE_COMPLETE", physical_id=made)
            elif action == "Replace":
                old_objects[key] = parsed.pop(key)
                _event(models, stack, key, spec, "UPDATE_IN_PROGRESS", REPLACING, _physical_id(old_objects[key], key))
                _pause()
                if key in names and names[key] == _custom_names(parsing, resource_map, [key]).get(key):
                    raise ResourceFailed(f"CloudFormation cannot update a stack when a custom-named resource "
                                         f"requires replacing. Rename {names[key]} and update the stack again.")
                made = _physical_id(make_resource(stack, parsing, key, spec), key)
                _event(models, stack, key, spec, "UPDATE_IN_PROGRESS", INITIATED, made)
                _event(models, stack, key, spec, "UPDATE_COMPLETE", physical_id=made)
            else:
                physical = _physical_id(parsed[key], key)
                _event(models, stack, key, spec, "UPDATE_IN_PROGRESS", physical_id=physical)
                _pause()
                _in_place(stack, parsing, key, spec)
                _event(models, stack, key, spec, "UPDATE_COMPLETE", physical_id=_physical_id(parsed[key], key))
        except Exception as exc:  # noqa: BLE001 - whatever the service refused is the resource's reason
            if action == "Replace":
                parsed[key] = old_objects.pop(key)
            elif action == "Add":
                parsed.pop(key, None)
            _event(models, stack, key, spec, "CREATE_FAILED" if action == "Add" else "UPDATE_FAILED",
                   _reason(exc, spec.get("Type", "")),
                   "" if action == "Add" else _physical_id(parsed[key], key))
            _roll_back(models, parsing, stack, before, done + [(action, key)], old_objects, dict(new_specs))
            return
        done.append((action, key))
    stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    old_specs = before.template_dict.get("Resources") or {}
    removed = [key for key in old_present if key not in present]
    leaving = [(key, old_objects[key], {**old_specs[key], "DeletionPolicy": old_specs[key].get(
        "UpdateReplacePolicy", "Delete")}) if key in old_objects else (key, parsed[key], old_specs[key])
        for key in reversed(old_present) if key in old_objects or key in removed]
    _cleanup(models, stack, leaving)
    for key in removed:
        parsed.pop(key, None)
    stack.parameters = parameters
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    stack.status = "UPDATE_COMPLETE"
    stack._add_stack_event("UPDATE_COMPLETE")


def _cleanup(models: Any, stack: Any, items: list[tuple[str, Any, dict[str, Any]]]) -> None:
    """Delete what an update or its rollback leaves behind; what cannot go is DELETE_FAILED, the stack goes on."""
    for key in delete_each(models, stack, items):
        spec = next(s for k, _r, s in items if k == key)
        resource = next(r for k, r, _s in items if k == key)
        _event(models, stack, key, spec, "DELETE_FAILED", stack.delete_failures.get(key, ""),
               _physical_id(resource, key))


def _roll_back(models: Any, parsing: Any, stack: Any, before: _Before, done: list[tuple[str, str]],
               old_objects: dict[str, Any], new_specs: dict[str, Any]) -> None:
    """Put every resource back as it was before the update; delete what it made."""
    action, failed = done[-1]
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=(
        f"The following resource(s) failed to {'create' if action == 'Add' else 'update'}: [{failed}]. "))
    resource_map = stack.resource_map
    parsed = resource_map._parsed_resources
    stack.template, stack.template_dict = before.template, before.template_dict
    _switch(resource_map, before.template_dict, before.input_parameters)
    old_specs = resource_map._resource_json_map
    touched = {key: kind for kind, key in done if kind in ("Modify", "Replace")}
    made: list[tuple[str, Any, dict[str, Any]]] = []
    for key in creation_order(old_specs):
        if key not in touched:
            continue
        spec = old_specs[key]
        try:
            if key in old_objects:  # the new physical resource goes in the clean-up; the old one is the stack's again
                made.append((key, parsed[key], {**new_specs[key], "DeletionPolicy": "Delete"}))
                parsed[key] = old_objects.pop(key)
            physical = _physical_id(parsed[key], key)
            _event(models, stack, key, spec, "UPDATE_IN_PROGRESS", physical_id=physical)
            _pause()
            if touched[key] == "Modify":
                _in_place(stack, parsing, key, spec)
            _event(models, stack, key, spec, "UPDATE_COMPLETE", physical_id=physical)
        except Exception as exc:  # noqa: BLE001 - the rollback itself failed: the stack says so and stops
            _event(models, stack, key, spec, "UPDATE_FAILED", _reason(exc, spec.get("Type", "")),
                   _physical_id(parsed.get(key), key))
            stack.status = "UPDATE_ROLLBACK_FAILED"
            stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=(
                f"The following resource(s) failed to update: [{key}]. "))
            return
    stack.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    if action == "Add":  # what failed was never made: it goes at once
        _event(models, stack, failed, new_specs[failed], "DELETE_COMPLETE")
    added = [key for kind, key in done[:-1] if kind == "Add"]
    made += [(key, parsed.pop(key), new_specs[key]) for key in added if parsed.get(key) is not None]
    order = [key for _kind, key in done]
    _cleanup(models, stack, sorted(made, key=lambda item: -order.index(item[0])))
    stack.parameters = before.parameters
    stack.description = before.description
    stack.output_map = stack._create_output_map()
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


def _unchanged(stack: Any, template: Any, values: dict[str, Any], tags: Any) -> bool:
    """Whether an UpdateStack changes nothing: the same template text, parameter values and tags (moto checks only
    a TemplateBody given with parameters, never a TemplateURL). Only the very same text counts: whether AWS also
    refuses a template that differs in comments or layout alone is not settled here."""
    if not isinstance(template, str) or template != stack.template or (tags is not None and tags != stack.tags):
        return False
    new = stack.template_dict
    declared = new.get("Parameters") or {}

    def effective(given: dict[str, Any]) -> dict[str, str]:
        return {key: str(given.get(key, spec.get("Default") if isinstance(spec, dict) else None))
                for key, spec in declared.items()}

    return effective(values) == effective(stack.resource_map.input_parameters)


# --- registration ----------------------------------------------------------------------------------------------

def register() -> None:
    """Put updates as above into moto's CloudFormation (safe to call again; after sandbox.cfn_lifecycle's)."""
    from moto.cloudformation import exceptions, models, parsing

    stack_class, backend = models.Stack, models.CloudFormationBackend
    if getattr(stack_class, "guardrail_updates", False):
        return
    stack_class.guardrail_updates = True

    def update(self: Any, template: str, role_arn: Any = None, parameters: Any = None, tags: Any = None) -> None:
        before = _Before(self.template, self.template_dict, dict(self.parameters or {}),
                         dict(self.resource_map.input_parameters), self.description)
        self.status = "UPDATE_IN_PROGRESS"
        self._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason=USER_INITIATED)
        self.role_arn = role_arn
        if tags is not None:
            self.tags = tags
        self.template = template
        self._parse_template()
        values = dict(parameters or {})
        _in_background(f"cfn-update-{self.name}",
                       lambda: _guarded(self, lambda: _run(models, parsing, self, before, values)))

    stack_class.update = update
    update_stack, create_change_set = backend.update_stack, backend.create_change_set
    execute_change_set = backend.execute_change_set

    def checked_update(self: Any, name: str, template: str, role_arn: Any, parameters: Any, tags: Any) -> Any:
        stack = self.get_stack(name)
        if stack.status.endswith("_IN_PROGRESS"):
            raise exceptions.ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
        previous = {p["ParameterKey"] for p in parameters or [] if isinstance(p, dict) and p.get("UsePreviousValue")}
        values = {**{k: v for k, v in stack.resource_map.input_parameters.items() if k in previous},
                  **_parameter_values(parameters)}
        cfn_params.refuse(template, values)
        if _unchanged(stack, template, values, tags):
            raise exceptions.ValidationError(message="No updates are to be performed.")
        return update_stack(self, name, template, role_arn, parameters, tags)

    def checked_change_set(self: Any, stack_name: str, change_set_name: str, template: str,
                           parameters: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # moto's CreateChangeSet already put the stack's current value for UsePreviousValue (a list as a list)
        values = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in (parameters or {}).items()}
        cfn_params.refuse(template, values)
        return create_change_set(self, stack_name, change_set_name, template, values, *args, **kwargs)

    def executing(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set, stack = cfn_lifecycle.change_set_of(self, change_set_name)
        if stack is None or change_set.change_set_type != "UPDATE":
            execute_change_set(self, change_set_name, stack_name)
            return
        if stack.status.endswith("_IN_PROGRESS"):
            raise exceptions.ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack.update(change_set.template, change_set.role_arn, parameters=dict(change_set.parameters or {}),
                     tags=change_set.tags or None)

    backend.update_stack = checked_update
    backend.create_change_set = checked_change_set
    backend.execute_change_set = executing
