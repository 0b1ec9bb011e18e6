"""CloudTrail trails as AWS Config records them, with whether they are logging and what they select.

A trail belongs to its home region: DescribeTrails with includeShadowTrails=False answers the trails created
in the asked region (a multi-region trail's copies elsewhere are not separate resources). Whether a trail is
logging (GetTrailStatus) and its event selectors (GetEventSelectors) have no batch form and are read per
trail; tags come from ListTags, twenty trails a call. Of the status only IsLogging is kept: the delivery
times in it move on every delivery and are not a change of the trail.

Pure Python like ``audit.config.base``: no Django, no botocore import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from audit.config.base import Clients, Gone, Relationship, Snapshot, error_code, lower_camel, sorted_items, tag_dict

__all__ = ["COLLECTORS", "TRAIL", "TrailCollector"]

TRAIL = "AWS::CloudTrail::Trail"
BUCKET = "AWS::S3::Bucket"
TAGS_PER_CALL = 20  # ListTags' limit on ResourceIdList

_NO_TRAIL = frozenset({"TrailNotFoundException", "TrailNotFound"})


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if arn.startswith("arn:") and len(parts) > 3 else ""


def _home(trail: dict[str, Any]) -> str:
    return trail.get("HomeRegion") or _arn_region(trail.get("TrailARN") or "")


def _read(operation: Any, **kwargs: Any) -> Any:
    try:
        return operation(**kwargs)
    except Exception as exc:
        if error_code(exc) in _NO_TRAIL:
            raise Gone() from exc
        raise


def _tags(cloudtrail: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    """{trail ARN: tags} for these trails (ListTags, twenty ARNs a call, following NextToken)."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), TAGS_PER_CALL):
        kwargs: dict[str, Any] = {"ResourceIdList": arns[start:start + TAGS_PER_CALL]}
        while True:
            answer = cloudtrail.list_tags(**kwargs)
            for entry in answer.get("ResourceTagList") or []:
                found.setdefault(entry.get("ResourceId", ""), {}).update(tag_dict(entry.get("TagsList")))
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
    return found


def _snapshot(cloudtrail: Any, trail: dict[str, Any], tags: dict[str, str]) -> Snapshot:
    arn = trail.get("TrailARN") or ""
    status = _read(cloudtrail.get_trail_status, Name=arn or trail["Name"])
    selectors = _read(cloudtrail.get_event_selectors, TrailName=arn or trail["Name"])
    configuration = lower_camel(trail)
    configuration["isLogging"] = bool(status.get("IsLogging"))
    configuration["eventSelectors"] = sorted_items(lower_camel(selectors.get("EventSelectors") or []))
    configuration["advancedEventSelectors"] = sorted_items(lower_camel(selectors.get("AdvancedEventSelectors") or []))
    relationships = []
    if trail.get("S3BucketName"):
        relationships.append(Relationship("Is associated with Bucket", BUCKET, trail["S3BucketName"]))
    return Snapshot(resource_type=TRAIL, resource_id=trail["Name"], region=_home(trail), configuration=configuration,
                    arn=arn, name=trail["Name"], tags=tags, relationships=sorted(relationships))


def _described(cloudtrail: Any, **kwargs: Any) -> list[dict[str, Any]]:
    try:
        return list(cloudtrail.describe_trails(includeShadowTrails=False, **kwargs).get("trailList") or [])
    except Exception as exc:
        if error_code(exc) in _NO_TRAIL:
            return []
        raise


class TrailCollector:
    resource_type = TRAIL
    global_ = False

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        cloudtrail = clients("cloudtrail", region)
        trails = sorted((t for t in _described(cloudtrail) if _home(t) == region), key=lambda t: t["Name"])
        tags = _tags(cloudtrail, [t["TrailARN"] for t in trails if t.get("TrailARN")])
        for trail in trails:
            try:
                yield _snapshot(cloudtrail, trail, tags.get(trail.get("TrailARN") or "", {}))
            except Gone:
                continue  # deleted while the scan ran

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        """`resource_id`: the trail's name, or its ARN (then looked up in the ARN's region, the trail's home)."""
        name = resource_id.split("trail/", 1)[1] if resource_id.startswith("arn:") else resource_id
        home = _arn_region(resource_id) or region
        cloudtrail = clients("cloudtrail", home)
        trail = next((t for t in _described(cloudtrail, trailNameList=[resource_id])
                      if (t.get("Name") == name or t.get("TrailARN") == resource_id) and _home(t) == home), None)
        if trail is None:
            return None
        try:
            tags = _tags(cloudtrail, [trail["TrailARN"]]) if trail.get("TrailARN") else {}
            return _snapshot(cloudtrail, trail, tags.get(trail.get("TrailARN") or "", {}))
        except Gone:
            return None


COLLECTORS = (TrailCollector(),)
