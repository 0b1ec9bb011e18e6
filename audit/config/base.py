"""What the recorder knows of one resource at one moment, and the collectors that take these snapshots.

Pure Python: no Django, no boto3 import. A collector is handed ``clients``, a callable
``clients(service, region) -> client`` (portal.aws builds them in the portal; tests build them against
the sandbox), so every AWS call still goes through the one boundary.

Shapes follow AWS Config's configuration items: ``configuration`` is the describe call's item with its
keys in lowerCamelCase (as Config shows EC2, RDS, IAM ...), ``supplementary`` holds what Config keeps in
``supplementaryConfiguration`` (an S3 bucket's policy, ACL, public access block, encryption), ``tags`` is a
plain ``{key: value}`` dict and ``relationships`` use Config's ``relationshipName`` wording.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Protocol

__all__ = ["GLOBAL", "Clients", "Collector", "Gone", "Relationship", "Snapshot", "error_code", "jsonable",
           "lower_camel", "sorted_items", "tag_dict", "utc"]

GLOBAL = "global"  # the region AWS Config gives IAM resources

Clients = Callable[[str, str], Any]  # (service, region) -> a boto3 client


@dataclass(frozen=True, order=True)
class Relationship:
    name: str  # AWS Config's relationshipName: "Is contained in Vpc", "Is associated with Instance" ...
    resource_type: str  # "AWS::EC2::VPC"
    resource_id: str  # "vpc-0abc..."

    def as_dict(self) -> dict[str, str]:
        return {"relationshipName": self.name, "resourceType": self.resource_type, "resourceId": self.resource_id}


@dataclass
class Snapshot:
    resource_type: str
    resource_id: str
    region: str  # the resource's own region; GLOBAL for IAM
    configuration: dict[str, Any]
    arn: str = ""
    name: str = ""
    supplementary: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    created: datetime | None = None  # resourceCreationTime, when AWS says


class Collector(Protocol):
    resource_type: str
    global_: bool  # True: one pass per account (IAM, S3), snapshots carry their own region

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        """Every resource of this type in `region` (in the whole account for a global collector).

        Batched: list/describe calls with pagination, never one describe per resource where AWS offers a
        list form. Relationships that need another listing (which instances use a security group) are
        answered from one listing per scan, not one call per resource."""
        ...

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        """The resource as it is now; None when AWS says it does not exist (it was deleted)."""
        ...


def lower_camel(value: Any) -> Any:
    """Keys with their first letter lowered, all the way down (``GroupId`` -> ``groupId``), as Config shows them."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): lower_camel(v) for k, v in value.items()
                if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [lower_camel(v) for v in value]
    return jsonable(value)


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC strings, bytes as text, the rest as it is (dicts and lists walked)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def tag_dict(tags: Any) -> dict[str, str]:
    """AWS's tag lists (``[{"Key": k, "Value": v}]``, any key case) or a dict, as ``{k: v}``."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    found: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            found[str(key)] = str(tag.get("Value", tag.get("value", "")))
    return found


def utc(value: Any) -> datetime | None:
    """A datetime from an AWS answer in UTC (naive ones taken as UTC); None for anything else."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def sorted_items(items: list[Any]) -> list[Any]:
    """A list in a stable order (by each item's JSON), so two describes of the same thing compare equal."""
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))


class Gone(Exception):
    """The resource disappeared between the listing and one of its detail reads."""


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError (duck-typed, so this module needs no botocore import)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
