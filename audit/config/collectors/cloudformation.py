"""CloudFormation stacks as AWS Config records them, with a "Contains" relationship to each stack resource.

A scan is one paginated DescribeStacks (every live stack of the region), then per stack the calls that have
no batch form: ListStackResources for the relationships and, for a stack with parameters, GetTemplateSummary
for which of them are NoEcho. A NoEcho parameter's value is never recorded: it is masked as "****" by the
template's own NoEcho declaration (AWS masks it in DescribeStacks already, as the sandbox now does). Only the
values of parameters the template declares without NoEcho are kept: every value is masked when the template
cannot be read, and so is a parameter the template does not declare. A deleted stack (DELETE_COMPLETE, which
AWS keeps showing for a while) is absent.

Pure Python like ``audit.config.base``: no Django, no botocore import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from audit.config.base import (
    Clients,
    Gone,
    Relationship,
    Snapshot,
    error_code,
    jsonable,
    lower_camel,
    sorted_items,
    utc,
)

__all__ = ["COLLECTORS", "MASK", "STACK", "StackCollector", "masked_parameters"]

STACK = "AWS::CloudFormation::Stack"
MASK = "****"
_GONE_STATUSES = frozenset({"DELETE_COMPLETE"})
_GONE_RESOURCES = frozenset({"DELETE_COMPLETE"})


def _missing(exc: Exception) -> bool:
    """CloudFormation's "Stack with id X does not exist" (a ValidationError, like any bad input)."""
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


def _read(operation: Any, **kwargs: Any) -> Any:
    try:
        return operation(**kwargs)
    except Exception as exc:
        if _missing(exc):
            raise Gone() from exc
        raise


def _stack_name(value: str) -> str:
    """A stack's name, also from its ARN (``arn:aws:cloudformation:region:account:stack/name/uuid``)."""
    if value.startswith("arn:") and ":stack/" in value:
        return value.split(":stack/", 1)[1].split("/", 1)[0]
    return value


def _shown_keys(cloudformation: Any, stack_id: str) -> set[str]:
    """The parameters whose values may be recorded: those the stack's template declares without NoEcho.

    Empty (every value masked) when AWS will not show the template. A parameter the template does not declare
    at all is masked too: the sandbox can keep a parameter of a template an update replaced."""
    try:
        summary = _read(cloudformation.get_template_summary, StackName=stack_id)
    except Gone:
        raise
    except Exception as exc:
        if not error_code(exc):
            raise  # no answer from AWS (a broken connection): fail rather than record a masked-everything change
        return set()
    return {p["ParameterKey"] for p in summary.get("Parameters") or []
            if p.get("ParameterKey") and not p.get("NoEcho")}


def masked_parameters(parameters: list[dict[str, Any]], shown: set[str]) -> list[dict[str, Any]]:
    """Parameters with the value of each one not in `shown` (NoEcho, or of unknown kind) replaced by ****."""
    masked = []
    for parameter in parameters or []:
        parameter = dict(parameter)
        hidden = parameter.get("ParameterKey") not in shown
        for key in ("ParameterValue", "ResolvedValue"):
            if key in parameter and (hidden or parameter[key] == MASK):
                parameter[key] = MASK
        masked.append(parameter)
    return masked


def _relationships(cloudformation: Any, stack_id: str) -> list[Relationship]:
    found = set()
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in _read(lambda: list(paginator.paginate(StackName=stack_id))):
        for resource in page.get("StackResourceSummaries") or []:
            kind, physical = resource.get("ResourceType") or "", resource.get("PhysicalResourceId")
            if not kind or not physical or resource.get("ResourceStatus") in _GONE_RESOURCES:
                continue
            if kind == STACK:
                physical = _stack_name(physical)  # a nested stack is known by its name, like any stack
            found.add(Relationship(f"Contains {kind.rsplit('::', 1)[-1]}", kind, physical))
    return sorted(found)


def _snapshot(cloudformation: Any, region: str, stack: dict[str, Any]) -> Snapshot:
    stack_id, name = stack["StackId"], stack["StackName"]
    parameters = stack.get("Parameters") or []
    shown = _shown_keys(cloudformation, stack_id) if parameters else set()
    configuration = {
        "stackName": name,
        "stackId": stack_id,
        "description": stack.get("Description"),
        "stackStatus": stack.get("StackStatus"),
        "stackStatusReason": stack.get("StackStatusReason"),
        "parameters": sorted(lower_camel(masked_parameters(parameters, shown)),
                             key=lambda p: str(p.get("parameterKey"))),
        "outputs": sorted(lower_camel(stack.get("Outputs") or []), key=lambda o: str(o.get("outputKey"))),
        "tags": sorted_items(lower_camel(stack.get("Tags") or [])),
        "creationTime": jsonable(stack.get("CreationTime")),
        "lastUpdatedTime": jsonable(stack.get("LastUpdatedTime")),
        "roleARN": stack.get("RoleARN"),
        "notificationARNs": sorted(stack.get("NotificationARNs") or []),
        "capabilities": sorted(stack.get("Capabilities") or []),
        "disableRollback": stack.get("DisableRollback"),
        "enableTerminationProtection": stack.get("EnableTerminationProtection"),
        "timeoutInMinutes": stack.get("TimeoutInMinutes"),
        "parentId": stack.get("ParentId"),
        "rootId": stack.get("RootId"),
    }
    tags = {str(t.get("Key")): str(t.get("Value", "")) for t in stack.get("Tags") or [] if t.get("Key") is not None}
    return Snapshot(resource_type=STACK, resource_id=name, region=region, configuration=configuration, arn=stack_id,
                    name=name, tags=tags, relationships=_relationships(cloudformation, stack_id),
                    created=utc(stack.get("CreationTime")))


class StackCollector:
    resource_type = STACK
    global_ = False

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        """Every live stack of `region`. A failure to read a stack that still exists fails the scan (raised):
        leaving the stack out would record it as deleted."""
        cloudformation = clients("cloudformation", region)
        paginator = cloudformation.get_paginator("describe_stacks")
        stacks = [stack for page in paginator.paginate() for stack in page.get("Stacks") or []
                  if stack.get("StackStatus") not in _GONE_STATUSES]
        for stack in sorted(stacks, key=lambda s: (s["StackName"], s["StackId"])):
            try:
                yield _snapshot(cloudformation, region, stack)
            except Gone:
                continue  # deleted while the scan ran

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        """`resource_id`: the stack's name (the recorder's id) or its ARN."""
        cloudformation = clients("cloudformation", region)
        try:
            stacks = _read(cloudformation.describe_stacks, StackName=resource_id).get("Stacks") or []
            name = _stack_name(resource_id)
            stack = next((s for s in stacks if s.get("StackName") == name or s.get("StackId") == resource_id), None)
            if stack is None or stack.get("StackStatus") in _GONE_STATUSES:
                return None
            return _snapshot(cloudformation, region, stack)
        except Gone:
            return None


COLLECTORS = (StackCollector(),)
