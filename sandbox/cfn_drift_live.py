"""What drift detection compares for each resource type the recorder knows: the template's properties (resolved as
the stack resolved them) and the live resource, read from moto's backends, in the template's own shape.

AWS checks "only resource properties explicitly defined in the stack template" (CloudFormation API Reference,
StackResourceDrift), so each reader returns the live values of the properties the template sets and nothing else.
Types without a reader are NOT_CHECKED ("Resources that don't currently support drift detection can't be checked").
Django-free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JSONDict = dict[str, Any]

_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1", "-1": "-1", "58": "icmpv6"}
_RULE_KEYS = ("IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "SourceSecurityGroupId",
              "SourcePrefixListId", "DestinationSecurityGroupId", "DestinationPrefixListId", "Description")
# Lists AWS compares as sets (an item added outside CloudFormation is ADD, one removed is REMOVE, wherever it is).
SET_LISTS = frozenset({"SecurityGroupIngress", "SecurityGroupEgress", "SecurityGroupIds", "SecurityGroups"})


class Deleted(Exception):
    """The resource is gone: StackResourceDriftStatus DELETED."""


def _text(value: Any) -> Any:
    """A scalar as CloudFormation passes it to the resource: parameters are strings, YAML gives ints and booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _rule(raw: JSONDict) -> JSONDict:
    """One ingress/egress rule in one shape (protocol by name, ports as text, no ports for all traffic)."""
    rule = {key: _text(raw[key]) for key in _RULE_KEYS if raw.get(key) not in (None, "")}
    protocol = str(rule.get("IpProtocol", "")).lower()
    rule["IpProtocol"] = _PROTOCOLS.get(protocol, protocol)
    if rule["IpProtocol"] == "-1":
        rule.pop("FromPort", None)
        rule.pop("ToPort", None)
    return rule


def _live_rules(rules: list[Any], egress: bool) -> list[JSONDict]:
    out = []
    for rule in rules:
        raw: JSONDict = {"IpProtocol": rule.ip_protocol, "FromPort": rule.from_port, "ToPort": rule.to_port,
                         **{k: v for k, v in (rule.ip_range or {}).items() if k in ("CidrIp", "CidrIpv6", "Description")}}
        group = (rule.source_group or {}).get("GroupId")
        if group:
            raw["DestinationSecurityGroupId" if egress else "SourceSecurityGroupId"] = group
        if rule.prefix_list_id:
            raw["DestinationPrefixListId" if egress else "SourcePrefixListId"] = rule.prefix_list_id
        out.append(_rule(raw))
    return out


def _tags(expected: list[JSONDict] | None, live: dict[str, str], stack_tags: dict[str, str]) -> list[JSONDict]:
    """The live tags a template's Tags is compared with: not AWS's own (aws:…), not the stack's propagated ones."""
    named = {str(t.get("Key")) for t in expected or []}
    return [{"Key": k, "Value": v} for k, v in sorted(live.items())
            if not k.startswith("aws:") and (k in named or k not in stack_tags)]


def normalise(resource_type: str, properties: JSONDict) -> JSONDict:
    """The template's resolved properties in the shape the readers give (only what a reader checks)."""
    checked = CHECKED.get(resource_type, ())
    out: JSONDict = {}
    for key in checked:
        if key not in properties or properties[key] is None:
            continue
        value = properties[key]
        if key in ("SecurityGroupIngress", "SecurityGroupEgress"):
            value = [_rule(r) for r in value or []]
        elif key == "Tags":
            value = [{"Key": str(t.get("Key")), "Value": _text(t.get("Value"))} for t in value or []]
        elif isinstance(value, list):
            value = [_text(v) for v in value]
        elif not isinstance(value, dict):
            value = _text(value)
        out[key] = value
    return out


def _security_group(backends: Any, account: str, region: str, physical_id: str, expected: JSONDict,
                    stack_tags: dict[str, str]) -> JSONDict:
    ec2 = backends["ec2"][account][region]
    group = ec2.get_security_group_from_id(physical_id)
    if group is None:
        raise Deleted(physical_id)
    tags = {t["key"]: t["value"] for t in group.get_tags()}
    live = {"GroupDescription": group.description, "GroupName": group.name, "VpcId": group.vpc_id,
            "SecurityGroupIngress": _live_rules(group.ingress_rules, egress=False),
            "SecurityGroupEgress": _live_rules(group.egress_rules, egress=True),
            "Tags": _tags(expected.get("Tags"), tags, stack_tags)}
    return {k: v for k, v in live.items() if k in expected}


def _instance(backends: Any, account: str, region: str, physical_id: str, expected: JSONDict,
              stack_tags: dict[str, str]) -> JSONDict:
    ec2 = backends["ec2"][account][region]
    try:
        instance = ec2.get_instance(physical_id)
    except Exception as exc:  # moto's InvalidInstanceIdError
        raise Deleted(physical_id) from exc
    if instance.state in ("terminated", "shutting-down"):
        raise Deleted(physical_id)
    tags = {t["key"]: t["value"] for t in instance.get_tags()}
    groups = list(instance.security_groups or [])
    live = {"InstanceType": instance.instance_type, "ImageId": instance.image_id, "KeyName": instance.key_name,
            "SubnetId": instance.subnet_id, "SecurityGroupIds": sorted(g.id for g in groups),
            "SecurityGroups": sorted(g.name for g in groups),
            "Tags": _tags(expected.get("Tags"), tags, stack_tags)}
    return {k: v for k, v in live.items() if k in expected}


def _bucket(backends: Any, account: str, region: str, physical_id: str, expected: JSONDict,
            stack_tags: dict[str, str]) -> JSONDict:
    s3 = backends["s3"][account]["aws"]
    bucket = s3.buckets.get(physical_id)
    if bucket is None:
        raise Deleted(physical_id)
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(physical_id).get("Tags", [])}
    live: JSONDict = {"BucketName": bucket.name, "Tags": _tags(expected.get("Tags"), tags, stack_tags)}
    if bucket.versioning_status:
        live["VersioningConfiguration"] = {"Status": bucket.versioning_status}
    rule = (bucket.encryption or {}).get("Rule")
    if rule:
        entry: JSONDict = {"ServerSideEncryptionByDefault": dict(rule.get("ApplyServerSideEncryptionByDefault", {}))}
        if rule.get("BucketKeyEnabled") is not None:
            entry["BucketKeyEnabled"] = _text(str(rule["BucketKeyEnabled"]).lower() == "true")
        live["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [entry]}
    return {k: v for k, v in live.items() if k in expected}


Reader = Callable[[Any, str, str, str, JSONDict, dict[str, str]], JSONDict]
READERS: dict[str, Reader] = {
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::EC2::Instance": _instance,
    "AWS::S3::Bucket": _bucket,
}
CHECKED: dict[str, tuple[str, ...]] = {
    "AWS::EC2::SecurityGroup": ("GroupDescription", "GroupName", "VpcId", "SecurityGroupIngress",
                                "SecurityGroupEgress", "Tags"),
    # Not SecurityGroupIds/SecurityGroups: moto 5.2.5's CloudFormation Instance ignores SecurityGroupIds and takes
    # SecurityGroups for ids, so the live groups are not the template's and every launch would show as drifted.
    "AWS::EC2::Instance": ("InstanceType", "ImageId", "KeyName", "SubnetId", "Tags"),
    "AWS::S3::Bucket": ("BucketName", "VersioningConfiguration", "BucketEncryption", "Tags"),
}


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return _text(value)


def differences(expected: JSONDict, actual: JSONDict, as_text: Callable[[Any], str]) -> list[JSONDict]:
    """AWS's PropertyDifferences: [{PropertyPath, ExpectedValue, ActualValue, DifferenceType}] (API Reference,
    PropertyDifference: ADD — a value added to an array; REMOVE — removed from the resource; NOT_EQUAL — differs)."""
    out: list[JSONDict] = []

    def add(path: str, want: Any, got: Any, kind: str) -> None:
        out.append({"PropertyPath": path, "ExpectedValue": as_text(want), "ActualValue": as_text(got),
                    "DifferenceType": kind})

    def walk(path: str, want: Any, got: Any, as_set: bool = False) -> None:
        want, got = _canonical(want), _canonical(got)
        if want == got:
            return
        if isinstance(want, dict) and isinstance(got, dict):
            for key in want:
                if key not in got:
                    add(f"{path}/{key}", want[key], None, "REMOVE")
                else:
                    walk(f"{path}/{key}", want[key], got[key])
            for key in got:
                if key not in want:
                    add(f"{path}/{key}", None, got[key], "NOT_EQUAL")
            return
        if isinstance(want, list) and isinstance(got, list):
            if path == "/Tags":
                by_key = {t.get("Key"): (i, t) for i, t in enumerate(got)}
                for i, tag in enumerate(want):
                    if tag.get("Key") not in by_key:
                        add(f"{path}/{i}", tag, None, "REMOVE")
                    elif by_key[tag["Key"]][1].get("Value") != tag.get("Value"):
                        add(f"{path}/{i}/Value", tag.get("Value"), by_key[tag["Key"]][1].get("Value"), "NOT_EQUAL")
                named = {t.get("Key") for t in want}
                for i, tag in enumerate(got):
                    if tag.get("Key") not in named:
                        add(f"{path}/{i}", None, tag, "ADD")
                return
            if as_set:
                left = list(got)
                for i, item in enumerate(want):
                    if item in left:
                        left.remove(item)
                    else:
                        add(f"{path}/{i}", item, None, "REMOVE")
                remaining = list(want)
                for i, item in enumerate(got):
                    if item in remaining:
                        remaining.remove(item)
                    else:
                        add(f"{path}/{i}", None, item, "ADD")
                return
            for i in range(max(len(want), len(got))):
                if i >= len(got):
                    add(f"{path}/{i}", want[i], None, "REMOVE")
                elif i >= len(want):
                    add(f"{path}/{i}", None, got[i], "ADD")
                else:
                    walk(f"{path}/{i}", want[i], got[i])
            return
        if got is None:
            add(path, want, None, "REMOVE")
        else:
            add(path, want, got, "NOT_EQUAL")

    for key, want in expected.items():
        if key not in actual or actual[key] is None:
            add(f"/{key}", want, None, "REMOVE")
        else:
            walk(f"/{key}", want, actual[key], as_set=key in SET_LISTS)
    return out
