"""CloudFormation's drift detection, which moto 5.2.5 lacks: answered by the sandbox's middleware like LookupEvents.

Operations and shapes (AWS CloudFormation API Reference):
- DetectStackDrift(StackName, LogicalResourceIds?) → {StackDriftDetectionId}. The sandbox detects at once, so the
  detection is DETECTION_COMPLETE by the time the caller asks.
- DescribeStackDriftDetectionStatus(StackDriftDetectionId) → {StackId, StackDriftDetectionId, StackDriftStatus
  (DRIFTED | IN_SYNC | NOT_CHECKED | UNKNOWN), DetectionStatus (DETECTION_IN_PROGRESS | DETECTION_FAILED |
  DETECTION_COMPLETE), DetectionStatusReason?, DriftedStackResourceCount, Timestamp}.
- DescribeStackResourceDrifts(StackName, StackResourceDriftStatusFilters?, NextToken?, MaxResults?) →
  {StackResourceDrifts: [StackResourceDrift], NextToken?}: the latest detection's results for the resources that
  were checked ("Resources that don't currently support drift detection aren't checked, and so not included").
- DetectStackResourceDrift(StackName, LogicalResourceId) → {StackResourceDrift}; a type without drift support is
  answered with StackResourceDriftStatus NOT_CHECKED.
- StackResourceDrift: {StackId, LogicalResourceId, PhysicalResourceId, ResourceType, ExpectedProperties (a JSON
  string), ActualProperties (a JSON string; absent when DELETED), PropertyDifferences [PropertyDifference],
  StackResourceDriftStatus (IN_SYNC | MODIFIED | DELETED | NOT_CHECKED), Timestamp}.
- PropertyDifference: {PropertyPath, ExpectedValue, ActualValue, DifferenceType (ADD | REMOVE | NOT_EQUAL)}.

Expected properties are the template's, resolved against the stack's parameters and resources (Ref, GetAtt, Sub...)
as the stack resolved them; actual ones are read from moto's backends (sandbox.cfn_drift_live). Django-free.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections import OrderedDict
from typing import Any
from xml.sax.saxutils import escape

from sandbox import cfn_drift_live as live
from sandbox.refusals import Refusal

OPERATIONS = frozenset({"DetectStackDrift", "DescribeStackDriftDetectionStatus", "DescribeStackResourceDrifts",
                        "DetectStackResourceDrift"})
_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
_KEPT = 1000  # detections remembered (the sandbox's bound on memory)
_NOT_DRIFTABLE = ("_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED")


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DriftStore:
    """Detections by id, and each stack's latest resource drifts (what DescribeStackResourceDrifts lists)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.detections: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.latest: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def keep(self, detection: dict[str, Any], drifts: list[dict[str, Any]]) -> None:
        with self._lock:
            self.detections[detection["StackDriftDetectionId"]] = detection
            self.latest[detection["StackId"]] = drifts
            self.latest.move_to_end(detection["StackId"])
            while len(self.detections) > _KEPT:
                self.detections.popitem(last=False)
            while len(self.latest) > _KEPT:
                self.latest.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.detections.clear()
            self.latest.clear()


STORE = DriftStore()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _as_text(value: Any) -> str:
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def _stack(account: str, region: str, name: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[account][region]
    try:
        return backend.get_stack(name)
    except Exception as exc:
        raise _Refused(f"Stack with id {name} does not exist") from exc


def _stack_tags(stack: Any) -> dict[str, str]:
    tags = stack.tags or {}
    return dict(tags) if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}


def _resource_drift(account: str, region: str, stack: Any, logical_id: str, timestamp: str) -> dict[str, Any]:
    from moto.cloudformation.parsing import clean_json
    from moto.ec2.models import ec2_backends
    from moto.s3.models import s3_backends

    resource_map = stack.resource_map
    resource_json = resource_map._resource_json_map[logical_id]
    resource = resource_map._parsed_resources.get(logical_id)
    resource_type = resource_json.get("Type", "")
    drift: dict[str, Any] = {"StackId": stack.stack_id, "LogicalResourceId": logical_id,
                             "PhysicalResourceId": getattr(resource, "physical_resource_id", None) or "",
                             "ResourceType": resource_type, "Timestamp": timestamp}
    reader = live.READERS.get(resource_type)
    if reader is None:
        return {**drift, "StackResourceDriftStatus": "NOT_CHECKED"}
    expected = live.normalise(resource_type, clean_json(resource_json.get("Properties") or {}, resource_map))
    drift["ExpectedProperties"] = json.dumps(expected, sort_keys=True)
    try:
        actual = reader({"ec2": ec2_backends, "s3": s3_backends}, account, region, drift["PhysicalResourceId"],
                        expected, _stack_tags(stack))
    except live.Deleted:
        return {**drift, "StackResourceDriftStatus": "DELETED", "PropertyDifferences": []}
    differences = live.differences(expected, actual, _as_text)
    return {**drift, "ActualProperties": json.dumps(actual, sort_keys=True), "PropertyDifferences": differences,
            "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC"}


def _created(stack: Any) -> list[str]:
    """The stack's resources that exist (a false Condition creates none), in template order."""
    parsed = stack.resource_map._parsed_resources
    return [name for name, body in stack.resource_map._resource_json_map.items()
            if name in parsed and isinstance(body, dict)]


def _driftable(stack: Any) -> None:
    if stack.status.endswith(_NOT_DRIFTABLE):
        raise _Refused(f"Drift detection is not supported for stack {stack.name} in {stack.status} state")


def detect_stack_drift(account: str, region: str, params: dict[str, str]) -> dict[str, Any]:
    stack = _stack(account, region, params.get("StackName", ""))
    _driftable(stack)
    wanted = {v for k, v in params.items() if k.startswith("LogicalResourceIds.member.")}
    timestamp = _now()
    names = [n for n in _created(stack) if not wanted or n in wanted]
    drifts = [_resource_drift(account, region, stack, n, timestamp) for n in names]
    checked = [d for d in drifts if d["StackResourceDriftStatus"] != "NOT_CHECKED"]
    drifted = [d for d in checked if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
    detection = {"StackId": stack.stack_id, "StackDriftDetectionId": str(uuid.uuid4()),
                 "StackDriftStatus": "DRIFTED" if drifted else ("IN_SYNC" if checked else "NOT_CHECKED"),
                 "DetectionStatus": "DETECTION_COMPLETE", "DriftedStackResourceCount": len(drifted),
                 "Timestamp": timestamp, "_account": account, "_region": region}
    STORE.keep(detection, checked)
    return {"StackDriftDetectionId": detection["StackDriftDetectionId"]}


def describe_detection(account: str, region: str, params: dict[str, str]) -> dict[str, Any]:
    detection_id = params.get("StackDriftDetectionId", "")
    detection = STORE.detections.get(detection_id)
    if detection is None or (detection["_account"], detection["_region"]) != (account, region):
        raise _Refused(f"Drift detection {detection_id} does not exist")
    return {k: v for k, v in detection.items() if not k.startswith("_")}


def describe_resource_drifts(account: str, region: str, params: dict[str, str]) -> dict[str, Any]:
    stack = _stack(account, region, params.get("StackName", ""))
    filters = {v for k, v in params.items() if k.startswith("StackResourceDriftStatusFilters.member.")}
    drifts = [d for d in STORE.latest.get(stack.stack_id, []) if not filters or d["StackResourceDriftStatus"] in filters]
    try:
        size = max(1, min(100, int(params.get("MaxResults") or 100)))
        start = int(params.get("NextToken") or 0)
    except ValueError as exc:
        raise _Refused("Invalid NextToken or MaxResults") from exc
    answer: dict[str, Any] = {"StackResourceDrifts": drifts[start:start + size]}
    if start + size < len(drifts):
        answer["NextToken"] = str(start + size)
    return answer


def detect_resource_drift(account: str, region: str, params: dict[str, str]) -> dict[str, Any]:
    stack = _stack(account, region, params.get("StackName", ""))
    _driftable(stack)
    logical_id = params.get("LogicalResourceId", "")
    if logical_id not in _created(stack):
        raise _Refused(f"Resource {logical_id} does not exist for stack {stack.name}")
    return {"StackResourceDrift": _resource_drift(account, region, stack, logical_id, _now())}


_HANDLERS = {"DetectStackDrift": detect_stack_drift, "DescribeStackDriftDetectionStatus": describe_detection,
             "DescribeStackResourceDrifts": describe_resource_drifts,
             "DetectStackResourceDrift": detect_resource_drift}


def _xml(value: Any) -> str:
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "".join(f"<member>{_xml(v)}</member>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _answer(status: str, body: str, request_id: str) -> Refusal:
    data = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode()
    return Refusal(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(data))),
                            ("x-amzn-RequestId", request_id)], data)


def answer(operation: str, account: str, region: str, params: dict[str, str]) -> Refusal:
    """The query-protocol answer to one of OPERATIONS (a ValidationError as AWS sends one when refused)."""
    request_id = str(uuid.uuid4())
    try:
        result = _HANDLERS[operation](account, region, params)
    except _Refused as exc:
        return _answer("400 Bad Request", (
            f'<ErrorResponse xmlns="{_NS}"><Error><Type>Sender</Type><Code>ValidationError</Code>'
            f"<Message>{escape(exc.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"),
            request_id)
    return _answer("200 OK", (
        f'<{operation}Response xmlns="{_NS}"><{operation}Result>{_xml(result)}</{operation}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"),
        request_id)
