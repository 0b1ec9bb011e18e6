"""A stack's life as CloudFormation runs it: resource by resource, over time, with AWS's events and rollbacks.

moto 5.2.5 makes a whole stack inside CreateStack with two stack-level events, accepts any parameter value, shows
NoEcho values in DescribeStacks (it compares each value, not its key, with the NoEcho keys), never rolls back and
deletes in whatever order its retries reach. Here (`register()`, called by the sandbox server):

- CreateStack refuses values CloudFormation refuses (sandbox.cfn_params), with its ValidationError.
- A create runs resource by resource in dependency order (DependsOn, Ref, Fn::GetAtt, Fn::Sub), each taking
  `resource_seconds` (SANDBOX_CLOUDFORMATION_RESOURCE_SECONDS; 0: inside the call, as tests want), on a background
  thread when it takes time. Events, oldest first: the stack's CREATE_IN_PROGRESS "User Initiated"; per resource
  CREATE_IN_PROGRESS, CREATE_IN_PROGRESS "Resource creation Initiated" (with its physical id), for an instance
  CREATE_IN_PROGRESS "Eventual consistency check initiated" (the stack's own one before the last CREATE_COMPLETE),
  CREATE_COMPLETE; the stack's CREATE_COMPLETE. DescribeStacks says CREATE_IN_PROGRESS meanwhile, without outputs.
- A value of an AWS-specific type the account lacks (a key pair, an image...) rolls the stack back at once with
  "Parameter validation failed: ... does not exist. Rollback requested by user.".
- A resource that cannot be made (an image or key pair that does not exist, whatever the service refuses) is
  CREATE_FAILED with the service's reason; the stack goes ROLLBACK_IN_PROGRESS ("The following resource(s) failed
  to create: [X]. Rollback requested by user."), deletes what it made, newest first (DELETE_IN_PROGRESS,
  DELETE_COMPLETE; DELETE_SKIPPED for DeletionPolicy Retain), and ends ROLLBACK_COMPLETE.
- DeleteStack goes the same way (DELETE_IN_PROGRESS "User Initiated", each resource newest first, DELETE_SKIPPED
  for `DeletionPolicy: Retain`, which stays in the account, a final snapshot first for `Snapshot` (and RDS's
  default, sandbox.cfn_snapshots), then DELETE_COMPLETE), in the background when it takes time. A resource that
  cannot go is left to sandbox.cfn_types.stacks (DELETE_FAILED, as AWS reports it).
- DescribeStacks shows a NoEcho parameter's value as ****.
- ExecuteChangeSet on a CREATE change set makes the stack as CreateStack does (moto applies it as an update of an
  empty stack and keeps an empty template: no outputs, and a delete that leaves every resource).

Updates, their rollbacks, UPDATE change sets and CreateChangeSet's parameter checks: sandbox.cfn_updates, which
makes and deletes resources with `make_resource` and `delete_each` here.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from sandbox import cfn_params, cfn_snapshots
from sandbox.cfn_types.base import listed

log = logging.getLogger(__name__)

MASK = "****"
SETTINGS = {"resource_seconds": 0.0}
USER_INITIATED = "User Initiated"
INITIATED = "Resource creation Initiated"
# AWS's eventual consistency check (CONFIGURATION_COMPLETE): an instance reports it, then the stack once all are made.
CONSISTENCY = "Eventual consistency check initiated"
CONSISTENCY_CHECKED = frozenset({"AWS::EC2::Instance"})
NO_OUTPUTS = {"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE",
              "ROLLBACK_FAILED", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"}


class ResourceFailed(Exception):
    """A resource CloudFormation could not create, with the service's reason."""


def configure(resource_seconds: float) -> None:
    SETTINGS["resource_seconds"] = max(0.0, float(resource_seconds))


def _pause() -> None:
    if SETTINGS["resource_seconds"] > 0:
        time.sleep(SETTINGS["resource_seconds"])


def _in_background(name: str, work: Any) -> None:
    """Run `work` now when resources take no time (tests), else on a thread, as CloudFormation answers first."""
    if SETTINGS["resource_seconds"] <= 0:
        work()
        return
    threading.Thread(target=work, name=name, daemon=True).start()


# --- events -----------------------------------------------------------------------------------------------------

def _event(models: Any, stack: Any, logical_id: str, resource_json: dict[str, Any], status: str, reason: str = "",
           physical_id: str = "") -> None:
    stack.events.append(models.Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
        physical_resource_id=physical_id or None, resource_type=resource_json.get("Type", ""),
        resource_status=status, resource_status_reason=reason or None, resource_properties=None))


def _physical_id(resource: Any, fallback: str) -> str:
    return str(getattr(resource, "physical_resource_id", None) or fallback)


# --- order ------------------------------------------------------------------------------------------------------

def _references(value: Any, names: set[str]) -> set[str]:
    """The resources `value` refers to: Ref, Fn::GetAtt, ${X} and ${X.Attr} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and inner in names:
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".")[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    found |= {n.split(".")[0] for n in _SUB.findall(text) if n.split(".")[0] in names}
                found |= _references(inner[1] if isinstance(inner, list) and len(inner) > 1 else None, names)
            else:
                found |= _references(inner, names)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner, names)
    return found


_SUB = __import__("re").compile(r"\$\{([A-Za-z0-9_.]+)\}")


def creation_order(resources: dict[str, Any]) -> list[str]:
    """Template order, each resource after everything it depends on (as CloudFormation's graph goes)."""
    names = set(resources)
    needs = {name: ({d for d in listed(spec.get("DependsOn")) if d in names} | _references(spec, names)) - {name}
             for name, spec in resources.items() if isinstance(spec, dict)}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for dependency in sorted(needs.get(name, ()), key=list(resources).index):
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in needs:
        visit(name)
    return order


# --- checks a resource's service makes --------------------------------------------------------------------------

def _aws_reason(message: str, code: str, service: str = "AmazonEC2") -> str:
    return (f"{message} (Service: {service}; Status Code: 400; Error Code: {code}; "
            f"Request ID: {uuid.uuid4()}; Proxy: null)")


def _check(resource_map: Any, logical_id: str, resource_json: dict[str, Any], parsing: Any) -> None:
    """What EC2 refuses and moto's CloudFormation lets through: an image or key pair that does not exist."""
    if resource_json.get("Type") not in ("AWS::EC2::Instance", "AWS::EC2::LaunchTemplate"):
        return
    from moto.ec2.models import ec2_backends

    properties = resource_json.get("Properties") or {}
    if resource_json["Type"] == "AWS::EC2::LaunchTemplate":
        properties = properties.get("LaunchTemplateData") or {}
    ec2 = ec2_backends[resource_map._account_id][resource_map._region_name]
    if "ImageId" in properties:
        image = parsing.clean_json(properties["ImageId"], resource_map)
        if image and not cfn_params.image_exists(ec2, str(image)):
            raise ResourceFailed(_aws_reason(f"The image id '[{image}]' does not exist", "InvalidAMIID.NotFound"))
    if properties.get("KeyName"):
        key = parsing.clean_json(properties["KeyName"], resource_map)
        if key and str(key) not in ec2.key_pairs:
            raise ResourceFailed(_aws_reason(f"The key pair '{key}' does not exist", "InvalidKeyPair.NotFound"))


# The service names CloudFormation's failure reasons give (AWS SDK for Java's service names)
SERVICES = {"EC2": "AmazonEC2", "RDS": "AmazonRDS", "S3": "Amazon S3", "IAM": "AmazonIdentityManagement"}


def _reason(exc: BaseException, resource_type: str = "AWS::EC2::") -> str:
    if isinstance(exc, ResourceFailed):
        return str(exc)
    message = str(getattr(exc, "message", None) or getattr(exc, "description", None) or exc)
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    service = (resource_type.split("::") + ["", ""])[1]
    return _aws_reason(message, code, SERVICES.get(service, f"Amazon{service}")) if isinstance(code, str) and code \
        else message


# --- create -----------------------------------------------------------------------------------------------------

def _resources(stack: Any) -> dict[str, Any]:
    return stack.template_dict.get("Resources") or {}


def make_resource(stack: Any, parsing: Any, logical_id: str, resource_json: dict[str, Any]) -> Any:
    """Make one resource of the stack's template as its service would (what it refuses raises), tagged as
    CloudFormation tags EC2 resources."""
    from moto.ec2 import models as ec2_models
    from moto.ec2.models.core import TaggedEC2Resource

    resource_map = stack.resource_map
    _check(resource_map, logical_id, resource_json, parsing)
    resource = resource_map[logical_id]
    if isinstance(resource, TaggedEC2Resource):
        tags = {**resource_map.tags, "aws:cloudformation:logical-id": logical_id}
        ec2_models.ec2_backends[stack.account_id][stack.region_name].create_tags([resource.physical_resource_id], tags)
    return resource


def _create(models: Any, parsing: Any, stack: Any) -> None:
    """Make the stack's resources one by one with their events; roll back on the first failure."""
    resource_map = stack.resource_map
    resource_map._template = stack.template_dict
    resource_map._resource_json_map = _resources(stack)
    resource_map.tags.update({"aws:cloudformation:stack-name": stack.name,
                              "aws:cloudformation:stack-id": stack.stack_id})
    missing = cfn_params.missing_in_account(stack.template_dict, resource_map.resolved_parameters,
                                            stack.account_id, stack.region_name)
    if missing:
        _rollback(models, stack, [], reason=missing)
        return
    made: list[str] = []
    order = [key for key in creation_order(resource_map._resource_json_map)
             if not (resource_map._resource_json_map[key].get("Condition")
                     and not resource_map.lazy_condition_map[resource_map._resource_json_map[key]["Condition"]])]
    checked = False
    for logical_id in order:
        resource_json = resource_map._resource_json_map[logical_id]
        _event(models, stack, logical_id, resource_json, "CREATE_IN_PROGRESS")
        _pause()
        try:
            resource = make_resource(stack, parsing, logical_id, resource_json)
        except Exception as exc:  # noqa: BLE001 - whatever the service refused is the resource's reason
            _event(models, stack, logical_id, resource_json, "CREATE_FAILED",
                   _reason(exc, resource_json.get("Type", "")))
            resource_map._parsed_resources.pop(logical_id, None)
            _rollback(models, stack, made, failed=logical_id)
            return
        physical = _physical_id(resource, logical_id)
        _event(models, stack, logical_id, resource_json, "CREATE_IN_PROGRESS", INITIATED, physical)
        if resource_json.get("Type") in CONSISTENCY_CHECKED:
            _event(models, stack, logical_id, resource_json, "CREATE_IN_PROGRESS", CONSISTENCY, physical)
            checked = True
        if checked and logical_id == order[-1]:  # every resource configured: the stack's own check
            stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason=CONSISTENCY)
        _event(models, stack, logical_id, resource_json, "CREATE_COMPLETE", physical_id=physical)
        made.append(logical_id)
    stack.description = stack.template_dict.get("Description")
    stack.mark_creation_complete()


def _rollback(models: Any, stack: Any, made: list[str], *, failed: str | None = None, reason: str = "") -> None:
    stack.status = "ROLLBACK_IN_PROGRESS"
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason or (
        f"The following resource(s) failed to create: [{failed}]. Rollback requested by user."))
    resources = _resources(stack)
    if failed:  # what failed was never made: it goes at once
        _event(models, stack, failed, resources[failed], "DELETE_COMPLETE")
    left = _delete_resources(models, stack, made)
    for key in left:
        _event(models, stack, key, resources[key], "DELETE_FAILED", stack.delete_failures.get(key, ""),
               _physical_id(stack.resource_map._parsed_resources[key], key))
    if left:
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=(
            f"The following resource(s) failed to delete: [{', '.join(left)}]. "))
        return
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


def _delete_resources(models: Any, stack: Any, order: list[str]) -> list[str]:
    """Delete these resources of the stack newest first, with their events (sandbox.cfn_snapshots for the
    DeletionPolicy); what could not go."""
    resources = _resources(stack)
    parsed = stack.resource_map._parsed_resources
    items = [(key, parsed[key], resources[key]) for key in reversed(order)
             if parsed.get(key) is not None and key in resources]
    left = delete_each(models, stack, items)
    for key, _resource, _spec in items:
        if key not in left:
            parsed.pop(key, None)
    return left


def delete_each(models: Any, stack: Any, items: list[tuple[str, Any, dict[str, Any]]],
                policy: str = "DeletionPolicy") -> list[str]:
    """Delete these (logical id, resource, template entry) in this order with their events: DELETE_SKIPPED for a
    Retain policy (`policy`: DeletionPolicy, or UpdateReplacePolicy for what an update replaced), a final snapshot
    first for Snapshot (sandbox.cfn_snapshots). What another still depends on goes in a later pass. Returns the
    logical ids that could not go (their reasons in stack.delete_failures)."""
    left = list(items)
    failure: dict[str, str] = {}
    for _attempt in range(len(left) + 1):
        for item in list(left):
            key, resource, spec = item
            physical = _physical_id(resource, key)
            chosen = cfn_snapshots.policy_of(spec, policy)
            if chosen == "Retain":  # kept in the account, out of the stack
                _event(models, stack, key, spec, "DELETE_SKIPPED", physical_id=physical)
                left.remove(item)
                continue
            if key not in failure:
                _event(models, stack, key, spec, "DELETE_IN_PROGRESS", physical_id=physical)
                _pause()
            try:
                if chosen == "Snapshot" and cfn_snapshots.can_snapshot(spec):
                    cfn_snapshots.delete_after_snapshot(stack, key, resource, spec)
                else:
                    stack.resource_map._delete_resource(resource, spec)
            except Exception as exc:  # noqa: BLE001 - a dependency still there: next pass
                failure[key] = _reason(exc, spec.get("Type", ""))
                continue
            left.remove(item)
            failure.pop(key, None)
            _event(models, stack, key, spec, "DELETE_COMPLETE", physical_id=physical)
        if not left:
            break
    stack.delete_failures = failure  # the reasons of what is left, for a rollback's DELETE_FAILED events
    return [key for key, _resource, _spec in left]


# --- delete -----------------------------------------------------------------------------------------------------

class _DeleteFailed(Exception):
    """Raised out of Stack.delete so sandbox.cfn_types.stacks keeps the stack as DELETE_FAILED."""


def _made_order(stack: Any) -> list[str]:
    """The stack's resources in the order they were made (creation order; later additions after)."""
    order = creation_order(_resources(stack))
    parsed = stack.resource_map._parsed_resources
    return [key for key in order if parsed.get(key) is not None]


def _delete(models: Any, stack: Any) -> None:
    if stack.status != "DELETE_IN_PROGRESS":
        stack.status = "DELETE_IN_PROGRESS"
        stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason=USER_INITIATED)
    left = _delete_resources(models, stack, _made_order(stack))
    if left:
        raise _DeleteFailed(", ".join(left))
    stack._add_stack_event("DELETE_COMPLETE")
    stack.status = "DELETE_COMPLETE"


# --- registration ----------------------------------------------------------------------------------------------

def _parameter_values(parameters: Any) -> dict[str, Any]:
    if isinstance(parameters, dict):
        return dict(parameters)
    return {p["ParameterKey"]: p.get("ParameterValue") for p in parameters or []
            if isinstance(p, dict) and not p.get("UsePreviousValue")}


def register() -> None:
    """Put the life above into moto's CloudFormation (safe to call again)."""
    from moto.cloudformation import models, parsing

    stack_class, backend = models.Stack, models.CloudFormationBackend
    if getattr(stack_class, "guardrail_lifecycle", False):
        return
    stack_class.guardrail_lifecycle = True
    outputs = stack_class.outputs.fget

    def parameter_list(self: Any) -> list[dict[str, Any]]:
        hidden = {key for key, spec in (self.template_dict.get("Parameters") or {}).items()
                  if isinstance(spec, dict) and str(spec.get("NoEcho", "false")).lower() == "true"}
        return [{"ParameterKey": k, "ParameterValue": MASK if k in hidden else
                 (",".join(map(str, v)) if isinstance(v, list) else v)}
                for k, v in self.resource_map.resolved_parameters.items()]

    def stack_outputs(self: Any) -> Any:
        return None if self.status in NO_OUTPUTS else outputs(self)

    def create_resources(self: Any) -> None:
        self.status = "CREATE_IN_PROGRESS"
        _in_background(f"cfn-create-{self.name}", lambda: _guarded(self, lambda: _create(models, parsing, self)))

    def delete(self: Any) -> None:
        _delete(models, self)

    stack_class.parameter_list = property(parameter_list)
    stack_class.outputs = property(stack_outputs)
    stack_class.create_resources = create_resources
    stack_class.delete = delete

    create_stack, delete_stack = backend.create_stack, backend.delete_stack

    def checked_create(self: Any, name: str, template: str, parameters: dict[str, Any], *args: Any,
                       **kwargs: Any) -> Any:
        cfn_params.refuse(template, _parameter_values(parameters))
        return create_stack(self, name, template, parameters, *args, **kwargs)

    def deleting(self: Any, name_or_stack_id: str) -> None:
        stack = next((s for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None)
        if stack is None or SETTINGS["resource_seconds"] <= 0:
            delete_stack(self, name_or_stack_id)
            return
        if stack.status == "DELETE_IN_PROGRESS":
            return  # asked again while deleting: nothing more to do, as in AWS
        stack.status = "DELETE_IN_PROGRESS"
        stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason=USER_INITIATED)
        _in_background(f"cfn-delete-{stack.name}", lambda: _guarded(stack, lambda: _delete_listed(models, self, stack)))

    deleting.keeps_failed = True  # type: ignore[attr-defined]  # wraps sandbox.cfn_types.stacks' own
    backend.create_stack = checked_create
    backend.delete_stack = deleting
    backend.execute_change_set = _executing(backend.execute_change_set)
    cfn_snapshots.register()  # a volume goes with its stack


def change_set_of(backend: Any, change_set_name: str) -> tuple[Any, Any]:
    """The change set (by id or name) and its stack; None for what is not there."""
    change_set = backend.change_sets.get(change_set_name) or next(
        (c for c in backend.change_sets.values() if c.change_set_name == change_set_name), None)
    return change_set, backend.stacks.get(change_set.stack_id) if change_set is not None else None


def _executing(execute_change_set: Any) -> Any:
    """ExecuteChangeSet: a CREATE change set makes its stack as CreateStack does (resource by resource, with events
    and rollback); moto applies it as an update of an empty stack whose template stays empty, so its delete would
    leave every resource and its outputs would never show. UPDATE change sets: sandbox.cfn_updates."""

    def executing(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set, stack = change_set_of(self, change_set_name)
        if stack is None or change_set.change_set_type != "CREATE":
            execute_change_set(self, change_set_name, stack_name)
            return
        stack.template, stack.parameters = change_set.template, change_set.parameters
        stack.cross_stack_resources = self.exports
        stack._parse_template()
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        self._validate_export_uniqueness(stack)
        for export in stack.exports:
            self.exports[export.name] = export
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason=USER_INITIATED)
        stack.create_resources()

    return executing


def _delete_listed(models: Any, backend: Any, stack: Any) -> None:
    """A background delete: the stack stays listed (DELETE_IN_PROGRESS) until its resources are gone, then moves to
    the deleted stacks; what cannot go leaves it DELETE_FAILED with each resource's reason, as AWS keeps it."""
    export_names = [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]
    try:
        _delete(models, stack)
    except _DeleteFailed as failed:
        resources = _resources(stack)
        for key in str(failed).split(", "):
            _event(models, stack, key, resources[key], "DELETE_FAILED", stack.delete_failures.get(key, ""),
                   _physical_id(stack.resource_map._parsed_resources.get(key), key))
        stack.status = "DELETE_FAILED"
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=(
            f"The following resource(s) failed to delete: [{failed}]. "))
        return
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack
    for name in export_names:
        backend.exports.pop(name, None)


def _guarded(stack: Any, work: Any) -> None:
    """Run a stack's work; on a background thread an unexpected error must not leave it in progress for ever."""
    try:
        work()
    except Exception:
        log.exception("sandbox: CloudFormation work on %s failed", stack.name)
        if stack.status.endswith("_IN_PROGRESS"):
            stack.status = stack.status.replace("_IN_PROGRESS", "_FAILED")
            stack._add_stack_event(stack.status, resource_status_reason="Internal failure in the sandbox.")
