"""CloudTrail's Event history and its LookupEvents, which moto lacks.

Every account has it, trail or not: the management events of the last 90 days in each region (CloudTrail User
Guide, "Working with CloudTrail Event history"). The writer adds each record when it delivers (so, as in AWS, an
event shows up a while after the call, and a call made earlier can show up after one made later); LookupEvents
answers from it as AWS does (CloudTrail API Reference, "LookupEvents"): newest first, at most 50 a page, one lookup
attribute, StartTime/EndTime on the event's time, a NextToken to page on, each event with its record as the
CloudTrailEvent string. Django-free.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
from collections import defaultdict, deque
from typing import Any

from sandbox.refusals import Refusal

KEPT_DAYS = 90
KEPT_PER_REGION = 5000  # the sandbox's bound on memory (hours of a demo account's calls); AWS keeps 90 days, all of them
PAGE_MAX = 50
ATTRIBUTES = {
    "EventId": lambda r: [r.get("eventID")],
    "EventName": lambda r: [r.get("eventName")],
    "ReadOnly": lambda r: [str(bool(r.get("readOnly"))).lower()],
    "Username": lambda r: [_username(r)],
    "EventSource": lambda r: [r.get("eventSource")],
    "AccessKeyId": lambda r: [(r.get("userIdentity") or {}).get("accessKeyId")],
    "ResourceName": lambda r: [],
    "ResourceType": lambda r: [],
}


def _username(record: dict[str, Any]) -> str | None:
    identity = record.get("userIdentity") or {}
    if identity.get("type") == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1] or None  # the role session's name
    return identity.get("userName") or (identity.get("type") == "Root" and "root") or None


def _time(record: dict[str, Any]) -> datetime.datetime:
    return datetime.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def _error(code: str, message: str) -> Refusal:
    body = json.dumps({"__type": code, "message": message}).encode()
    return Refusal("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                       ("Content-Length", str(len(body)))], body)


def _when(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class EventHistory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=KEPT_PER_REGION))

    def add(self, account_id: str, record: dict[str, Any]) -> None:
        if record.get("managementEvent") is False:
            return
        with self._lock:
            self._events[account_id, record.get("awsRegion", "")].append(record)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def records(self, account_id: str, region: str) -> list[dict[str, Any]]:
        """The region's events of the last 90 days, newest first (event time, then id, for a stable order)."""
        oldest = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=KEPT_DAYS)
        with self._lock:
            kept = list(self._events.get((account_id, region), ()))
        return sorted((r for r in kept if _time(r) >= oldest), key=lambda r: (_time(r), r.get("eventID", "")),
                      reverse=True)

    def lookup(self, account_id: str, region: str, params: dict[str, Any]) -> Refusal:
        """LookupEvents' answer (a Refusal-shaped triple: status, headers, body) or its error."""
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            return _error("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
        maximum = int(params.get("MaxResults") or PAGE_MAX)
        if not 1 <= maximum <= PAGE_MAX:
            return _error("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        try:
            start, end = _when(params.get("StartTime")), _when(params.get("EndTime"))
        except ValueError:
            return _error("InvalidTimeRangeException", "StartTime and EndTime must be times.")
        if start and end and start > end:
            return _error("InvalidTimeRangeException", "Start time must be earlier than end time.")
        after: tuple[str, str] | None = None
        if params.get("NextToken"):
            try:
                after = tuple(json.loads(base64.b64decode(params["NextToken"])))  # type: ignore[assignment]
            except ValueError:
                return _error("InvalidNextTokenException", "Invalid NextToken.")
        matches = []
        for record in self.records(account_id, region):
            when = _time(record)
            if (start and when < start) or (end and when > end):
                continue
            if after is not None and (record["eventTime"], record.get("eventID", "")) >= after:
                continue
            if attributes:
                key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
                if key not in ATTRIBUTES:
                    return _error("InvalidLookupAttributesException", f"Unknown lookup attribute {key}.")
                if value not in ATTRIBUTES[key](record):
                    continue
            matches.append(record)
            if len(matches) > maximum:
                break
        page, more = matches[:maximum], len(matches) > maximum
        answer: dict[str, Any] = {"Events": [self._event(r) for r in page]}
        if more:
            last = page[-1]
            answer["NextToken"] = base64.b64encode(json.dumps([last["eventTime"], last.get("eventID", "")]).encode()
                                                   ).decode()
        body = json.dumps(answer).encode()
        return Refusal("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
                       body)

    @staticmethod
    def _event(record: dict[str, Any]) -> dict[str, Any]:
        event = {"EventId": record.get("eventID"), "EventName": record.get("eventName"),
                 "ReadOnly": str(bool(record.get("readOnly"))).lower(), "EventTime": _time(record).timestamp(),
                 "EventSource": record.get("eventSource"), "Resources": [],
                 "CloudTrailEvent": json.dumps(record, separators=(",", ":"))}
        access_key, username = (record.get("userIdentity") or {}).get("accessKeyId"), _username(record)
        if access_key:
            event["AccessKeyId"] = access_key
        if username:
            event["Username"] = username
        return event
