"""botocore member dicts → CloudTrail's requestParameters / responseElements shapes, secrets removed.

Most services: member names with the first letter lowered (`RoleARN` → `roleARN`, as CloudTrail does),
lists as arrays. EC2 keeps its XML API's shape: members by locationName, lists wrapped as
`{"items": [...]}`, absent lists of a rule written as `{}` and `Return` as `_return`.

Secrets: request members botocore marks `sensitive` (passwords, secret strings, user data) are replaced
by CloudTrail's placeholder; in responses they, and session tokens, are dropped.
"""

from __future__ import annotations

import base64
import datetime
import decimal
from typing import Any

from botocore.model import Shape

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
EC2_HIDDEN = "<sensitiveDataRemoved>"
_SECRET_NAMES = frozenset({"secretaccesskey", "sessiontoken", "privatekey", "secretstring", "secretbinary",
                           "authtoken"})

# EC2 list members whose CloudTrail name is not their locationName (the older XML API's "...Set" names).
_EC2_LIST_NAMES = {
    "InstanceId": "instancesSet",
    "Filter": "filterSet",
    "Value": "valueSet",
    "TagSpecification": "tagSpecificationSet",
}
# Top-level EC2 lists that CloudTrail writes as {} when the request left them out.
_EC2_EMPTY_WHEN_ABSENT = frozenset({"IpPermissions", "InstanceIds", "Filters", "BlockDeviceMappings"})
# RunInstances: CloudTrail puts the image and counts in instancesSet.items[0].
_RUN_INSTANCES_SET = ("imageId", "minCount", "maxCount", "keyName")


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def is_secret(name: str, shape: Shape | None) -> bool:
    if shape is not None and shape.metadata.get("sensitive"):
        return True
    lowered = name.lower()
    # "...Password" members are secrets; PasswordResetRequired or MinimumPasswordLength are not.
    return lowered in _SECRET_NAMES or lowered.endswith("password")


def scalar(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        # CloudTrail writes response timestamps in this human form ("Aug 1, 2024, 1:33:28 PM").
        return f"{value:%b} {value.day}, {value.year}, {value.hour % 12 or 12}:{value:%M:%S %p}"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if hasattr(value, "read"):  # streaming bodies are never recorded
        return None
    return value


def plain(value: Any, shape: Shape | None, *, request: bool) -> Any:
    """The query/JSON services' CloudTrail shape."""
    if shape is None:
        return _untyped(value)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if is_secret(name, member):
                if request:
                    out[lower_first(name)] = HIDDEN
                continue
            out[lower_first(name)] = plain(item, member, request=request)
        return out
    if kind == "list" and isinstance(value, list):
        return [plain(item, shape.member, request=request) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {str(k): plain(v, shape.value, request=request) for k, v in value.items()}
    return scalar(value)


def _untyped(value: Any) -> Any:
    """No shape to guide us (unknown members): still lower the keys and strip secrets by name."""
    if isinstance(value, dict):
        return {lower_first(str(k)): (HIDDEN if is_secret(str(k), None) else _untyped(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_untyped(v) for v in value]
    return scalar(value)


def _ec2_key(name: str, member: Shape) -> str:
    location = member.serialization.get("name")
    if member.type_name == "list":
        if location in _EC2_LIST_NAMES:
            return _EC2_LIST_NAMES[location]
        if location and location[0].isupper() and member.member.type_name not in ("structure", "list", "map"):
            return lower_first(location) + "Set"
    if location == "return":
        return "_return"
    return lower_first(location or name)


def _ec2_item_name(list_key: str, list_shape: Shape) -> str:
    name = list_shape.member.serialization.get("name")
    if name and name != "item":
        return lower_first(name)
    for suffix in ("Set", "s"):
        if list_key.endswith(suffix):
            return list_key[: -len(suffix)]
    return list_key


def ec2(value: Any, shape: Shape | None, *, request: bool, depth: int = 0) -> Any:
    """EC2's CloudTrail shape."""
    if shape is None:
        return _untyped(value)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = _ec2_key(name, member)
            if name not in value:
                if request and member.type_name == "list" and (depth > 0 or name in _EC2_EMPTY_WHEN_ABSENT):
                    out[key] = {}
                continue
            if is_secret(name, member):
                if request:
                    out[key] = EC2_HIDDEN
                continue
            if member.type_name == "list":
                out[key] = _ec2_list(key, value[name], member, request=request, depth=depth)
            else:
                out[key] = ec2(value[name], member, request=request, depth=depth + 1)
        return out
    if kind == "list" and isinstance(value, list):
        return _ec2_list("item", value, shape, request=request, depth=depth)
    if kind == "map" and isinstance(value, dict):
        return {str(k): ec2(v, shape.value, request=request, depth=depth + 1) for k, v in value.items()}
    return scalar(value)


def _ec2_list(key: str, items: Any, shape: Shape, *, request: bool, depth: int) -> Any:
    if not isinstance(items, list) or not items:
        return {}
    member = shape.member
    if member.type_name in ("structure", "list", "map"):
        converted = [ec2(item, member, request=request, depth=depth + 1) for item in items]
    else:
        item_name = _ec2_item_name(key, shape)
        converted = [{item_name: scalar(item)} for item in items]
    return {"items": converted}


def ec2_run_instances(params: dict[str, Any]) -> dict[str, Any]:
    """RunInstances names the image and counts inside instancesSet, as CloudTrail writes them."""
    moved = {key: params.pop(key) for key in _RUN_INSTANCES_SET if key in params}
    if moved:
        params["instancesSet"] = {"items": [moved]}
    return params


def strip_secrets(value: Any) -> Any:
    """A last pass over a finished record: no secret-named key survives, whatever path produced it."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in ("secretaccesskey", "sessiontoken"):
                continue
            out[key] = strip_secrets(item)
        return out
    if isinstance(value, list):
        return [strip_secrets(item) for item in value]
    return value
