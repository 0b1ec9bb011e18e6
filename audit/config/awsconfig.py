"""Reading AWS Config's own configuration items instead of describing resources (real accounts where Config runs).

Pure like the collectors: ``clients(service, region)`` gives the ``config`` client. A scan asks Config's
advanced query (``SelectResourceConfig``, 100 results a page, tags and relationships included) for every
current item of a type; a targeted read asks ``GetResourceConfigHistory`` for the newest item of one resource.
Ids follow the portal's collectors, so CloudTrail events match either way: where Config names a resource by an
internal id (an IAM user's AIDA… id, an RDS instance's dbi-resource id), the resource's name is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from audit.config.base import GLOBAL, Clients, Relationship, Snapshot, error_code, jsonable

__all__ = ["AwsConfigCollector", "snapshot_from_item"]

# Types whose CloudTrail events name the resource by its name where Config's resourceId is something else.
BY_NAME = {"AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::RDS::DBInstance",
           "AWS::CloudFormation::Stack", "AWS::CloudTrail::Trail", "AWS::Config::ConfigurationRecorder"}
GONE = {"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"}
_FIELDS = ("resourceId, resourceName, resourceType, awsRegion, arn, resourceCreationTime, configuration, "
           "supplementaryConfiguration, tags, relationships, configurationItemStatus")


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _tags(raw: Any) -> dict[str, str]:
    raw = _loads(raw)
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(t.get("key", t.get("Key"))): str(t.get("value", t.get("Value", ""))) for t in raw or []
            if isinstance(t, dict) and (t.get("key") or t.get("Key"))}


def _created(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def snapshot_from_item(item: dict[str, Any]) -> Snapshot | None:
    """A Snapshot from one of Config's configuration items (history API or advanced query); None when deleted."""
    if item.get("configurationItemStatus") in GONE:
        return None
    resource_type = item["resourceType"]
    name = item.get("resourceName") or ""
    resource_id = name if resource_type in BY_NAME and name else item["resourceId"]
    supplementary = {k: _loads(v) for k, v in (_loads(item.get("supplementaryConfiguration")) or {}).items()}
    relationships = [Relationship(r.get("relationshipName", ""), r.get("resourceType", ""),
                                  r.get("resourceName") if r.get("resourceType") in BY_NAME and r.get("resourceName")
                                  else r.get("resourceId", ""))
                     for r in _loads(item.get("relationships")) or [] if r.get("resourceType")]
    region = item.get("awsRegion") or ""
    if resource_type.startswith("AWS::IAM::"):
        region = GLOBAL
    return Snapshot(resource_type=resource_type, resource_id=resource_id, region=region,
                    configuration=jsonable(_loads(item.get("configuration")) or {}), arn=item.get("arn") or "",
                    name=name, supplementary=jsonable(supplementary), tags=_tags(item.get("tags")),
                    relationships=sorted(set(relationships)), created=_created(item.get("resourceCreationTime")))


class AwsConfigCollector:
    """The Collector protocol, answered from AWS Config rather than from describe calls."""

    def __init__(self, resource_type: str, global_: bool) -> None:
        self.resource_type = resource_type
        self.global_ = global_

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        config = clients("config", region)
        query = f"SELECT {_FIELDS} WHERE resourceType = '{self.resource_type}'"
        if not self.global_:
            query += f" AND awsRegion = '{region}'"
        token = ""
        while True:
            page = config.select_resource_config(Expression=query, Limit=100,
                                                 **({"NextToken": token} if token else {}))
            for result in page.get("Results", []):
                snapshot = snapshot_from_item(json.loads(result))
                if snapshot is not None:
                    yield snapshot
            token = page.get("NextToken", "")
            if not token:
                return

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        config = clients("config", region)
        if self.resource_type in BY_NAME:
            found = config.list_discovered_resources(resourceType=self.resource_type, resourceName=resource_id,
                                                     limit=1).get("resourceIdentifiers", [])
            if not found:
                return None
            resource_id = found[0]["resourceId"]
        try:
            items = config.get_resource_config_history(resourceType=self.resource_type, resourceId=resource_id,
                                                       limit=1).get("configurationItems", [])
        except Exception as exc:
            if error_code(exc) in ("ResourceNotDiscoveredException", "ResourceNotFoundException"):
                return None
            raise
        return snapshot_from_item(_history_item(items[0])) if items else None


def _history_item(item: dict[str, Any]) -> dict[str, Any]:
    """GetResourceConfigHistory's item in the advanced query's spelling (status and tags differ)."""
    return {**item, "tags": item.get("tags") or {}}
