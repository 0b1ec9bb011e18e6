"""Change sets that list the real changes, as AWS's do: moto 5.2.5 lists Add/Modify/Remove by comparing the raw
templates only (a parameter-only change lists nothing), with no PhysicalResourceId, Replacement, Scope or Details.

Shapes (AWS CloudFormation API Reference, DescribeChangeSet → Changes[].ResourceChange): Action (Add | Modify |
Remove), LogicalResourceId, PhysicalResourceId (not for Add), ResourceType, Replacement (True | False | Conditional,
Modify only), Scope ([Properties | Tags | ...]), Details ([{Target: {Attribute, Name, RequiresRecreation (Never |
Conditionally | Always)}, Evaluation (Static | Dynamic), ChangeSource (ResourceReference | ParameterReference |
ResourceAttribute | DirectModification | Automatic), CausingEntity}]).

Replacement follows each property's "Update requires" in the resource type's reference (AWS CloudFormation User
Guide, e.g. AWS::EC2::SecurityGroup: GroupDescription "Replacement", SecurityGroupIngress "No interruption";
AWS::EC2::Instance: ImageId "Replacement", InstanceType "Some interruptions"): Replacement → Always, "Some
interruptions"/"No interruption" → Never, documented "Replacement" only in some cases → Conditionally. A resource
is replaced (True) if any changed property is Always, Conditional if any is Conditionally, else False.
Django-free.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Properties whose change replaces the resource (Always) or may (Conditionally); every other property: Never.
REQUIRES_RECREATION: dict[str, dict[str, str]] = {
    "AWS::EC2::SecurityGroup": {"GroupDescription": "Always", "GroupName": "Always", "VpcId": "Always"},
    "AWS::EC2::Instance": {"ImageId": "Always", "AvailabilityZone": "Always", "KeyName": "Always",
                           "SubnetId": "Always", "SecurityGroups": "Always", "PrivateIpAddress": "Always",
                           "NetworkInterfaces": "Always", "Ipv6Addresses": "Always", "Ipv6AddressCount": "Always",
                           "LaunchTemplate": "Always", "HostResourceGroupArn": "Always", "Tenancy": "Conditionally",
                           "BlockDeviceMappings": "Conditionally", "ElasticGpuSpecifications": "Always"},
    "AWS::S3::Bucket": {"BucketName": "Always", "ObjectLockEnabled": "Always"},
    "AWS::EC2::VPC": {"CidrBlock": "Always", "Ipv4IpamPoolId": "Always", "InstanceTenancy": "Conditionally"},
    "AWS::EC2::Subnet": {"CidrBlock": "Always", "AvailabilityZone": "Always", "VpcId": "Always",
                         "AvailabilityZoneId": "Always"},
    "AWS::RDS::DBInstance": {"DBInstanceIdentifier": "Always", "DBName": "Always", "MasterUsername": "Always",
                             "StorageEncrypted": "Always", "KmsKeyId": "Always", "DBSubnetGroupName": "Always",
                             "Engine": "Conditionally", "AvailabilityZone": "Conditionally",
                             "DBSnapshotIdentifier": "Always", "CharacterSetName": "Always"},
    "AWS::IAM::Role": {"RoleName": "Always", "Path": "Always"},
    "AWS::IAM::ManagedPolicy": {"ManagedPolicyName": "Always", "Path": "Always"},
    "AWS::SQS::Queue": {"QueueName": "Always", "FifoQueue": "Always"},
    "AWS::SNS::Topic": {"TopicName": "Always", "FifoTopic": "Always"},
}
_SUB = re.compile(r"\$\{([A-Za-z0-9_:.]+)\}")


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    """The template value with each parameter's value put in (Ref and ${...} in Fn::Sub); the rest as written."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return {"Fn::Sub": _SUB.sub(lambda m: str(parameters.get(m[1], m[0])), value["Fn::Sub"])}
        return {k: _resolve(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, parameters) for v in value]
    return value


def _parameters_named(value: Any, parameters: set[str]) -> set[str]:
    text = json.dumps(value)
    return {p for p in parameters if f'"Ref": "{p}"' in text or "${" + p + "}" in text}


def _new_parameters(change_set: Any, template: dict[str, Any]) -> dict[str, Any]:
    """The values the update would run with: given, else the template's default, else the stack's current one."""
    old = dict(change_set.stack.resource_map.resolved_parameters)
    out = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in change_set.parameters:
            out[name] = change_set.parameters[name]
        elif isinstance(spec, dict) and "Default" in spec:
            out[name] = spec["Default"]
        elif name in old:
            out[name] = old[name]
    return out


def _details(resource_type: str, old: dict[str, Any], new: dict[str, Any], old_params: dict[str, Any],
             new_params: dict[str, Any]) -> list[dict[str, Any]]:
    rules = REQUIRES_RECREATION.get(resource_type, {})
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    changed_params = {p for p in set(old_params) | set(new_params) if old_params.get(p) != new_params.get(p)}
    details = []
    for name in sorted(set(old_props) | set(new_props)):
        before, after = _resolve(old_props.get(name), old_params), _resolve(new_props.get(name), new_params)
        if before == after:
            continue
        causes = sorted(_parameters_named(new_props.get(name), changed_params)) if \
            old_props.get(name) == new_props.get(name) else []
        attribute = "Tags" if name == "Tags" else "Properties"
        target = {"Attribute": attribute, "RequiresRecreation": "Never" if name == "Tags" else rules.get(name, "Never")}
        if attribute == "Properties":
            target["Name"] = name
        if causes:
            details += [{"Target": target, "Evaluation": "Static", "ChangeSource": "ParameterReference",
                         "CausingEntity": cause} for cause in causes]
        else:
            details.append({"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"})
    return details


def _replacement(details: list[dict[str, Any]]) -> str:
    needs = {d["Target"]["RequiresRecreation"] for d in details}
    return "True" if "Always" in needs else "Conditional" if "Conditionally" in needs else "False"


def change_set_changes(change_set: Any) -> list[Any]:
    """The change set's ResourceChanges: Add and Remove by logical id, Modify where a property's value changes (a
    template edit or a parameter's new value), each with Replacement, Scope and Details."""
    from moto.cloudformation.models import Change

    resource_map = change_set.stack.resource_map
    template = change_set.template_dict or {}
    old_resources = resource_map._resource_json_map
    new_resources = template.get("Resources") or {}
    old_params = dict(resource_map.resolved_parameters)
    new_params = _new_parameters(change_set, template)
    parsed = resource_map._parsed_resources
    changes: list[Any] = []

    def change(action: str, name: str, body: dict[str, Any], **extra: Any) -> None:
        item = Change(action=action, logical_resource_id=name, resource_type=body.get("Type", ""))
        if action != "Add":
            item.physical_resource_id = getattr(parsed.get(name), "physical_resource_id", None)
        item.scope, item.details = extra.get("scope", []), extra.get("details", [])
        if action == "Modify":
            item.replacement = extra["replacement"]
        changes.append(item)

    for name, body in new_resources.items():
        if name not in old_resources:
            change("Add", name, body)
            continue
        details = _details(body.get("Type", ""), old_resources[name], body, old_params, new_params)
        if details:
            scope = sorted({d["Target"]["Attribute"] for d in details})
            change("Modify", name, body, details=details, scope=scope, replacement=_replacement(details))
    for name, body in old_resources.items():
        if name not in new_resources and isinstance(body, dict):
            change("Remove", name, body)
    return changes


def register() -> None:
    """moto's change sets list these changes (safe to call again)."""
    from moto.cloudformation import models

    if getattr(models.ChangeSet.diff, "guardrail", False):
        return

    def diff(self: Any) -> list[Any]:
        return change_set_changes(self)

    diff.guardrail = True  # type: ignore[attr-defined]
    models.ChangeSet.diff = diff
