"""A launch's progress (bar + resource list) from CloudFormation's answers: its per-resource events.

Feed `progress_from` what describe_stacks (Stacks[0]), describe_stack_events (StackEvents, newest
first) and describe_stack_resources (StackResources) returned. CloudFormation reports every resource
step by step; resources that have no event in the current operation (an update leaves most of them
alone) take their status from describe_stack_resources.

Rules:
- Only events from the latest stack-level "User Initiated" event on count (older ones belong to
  earlier operations). The latest event of a resource gives its status.
- While a stack cleans up after an update (…_CLEANUP_IN_PROGRESS), DELETE_* events about another
  physical id than the resource's current one are the replaced copy going away: ignored.
- percent = template resources that reached a final state (…_COMPLETE, …_FAILED, …_SKIPPED) in this
  operation / template resources, at most 99 until the stack is terminal, then 100. "Reached" (not
  "is in") keeps the bar from going back while a failed create rolls back.
- reason: for a failure, the first resource failure's ResourceStatusReason (not "Resource creation
  cancelled", not the stack's generic "The following resource(s) failed…"); else the stack's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

Event = dict[str, Any]

USER_INITIATED = "User Initiated"
STACK_TYPE = "AWS::CloudFormation::Stack"
FINAL_SUFFIXES = ("_COMPLETE", "_FAILED", "_SKIPPED")
CANCELLED = ("Resource creation cancelled", "Resource update cancelled")
SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_FAILED", "UPDATE_ROLLBACK_COMPLETE",
          "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED"}
RUNNING = {
    "REVIEW_IN_PROGRESS": "creating", "CREATE_IN_PROGRESS": "creating",
    "UPDATE_IN_PROGRESS": "updating", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "updating",
    "IMPORT_IN_PROGRESS": "updating",
    "DELETE_IN_PROGRESS": "deleting",
    "ROLLBACK_IN_PROGRESS": "rolling_back", "UPDATE_ROLLBACK_IN_PROGRESS": "rolling_back",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": "rolling_back", "IMPORT_ROLLBACK_IN_PROGRESS": "rolling_back",
}


@dataclass(frozen=True)
class ResourceProgress:
    logical_id: str
    type: str
    status: str  # a CloudFormation ResourceStatus, or "PENDING" (in the template, not started yet)
    reason: str
    physical_id: str
    updated: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "updated": self.updated.isoformat() if self.updated else None}


@dataclass(frozen=True)
class StackProgress:
    phase: str  # creating | updating | deleting | rolling_back | complete | failed | deleted | unknown
    percent: int
    done: bool
    succeeded: bool
    stack_status: str
    reason: str
    resources: list[ResourceProgress]

    def as_dict(self) -> dict[str, Any]:
        head = {k: v for k, v in asdict(self).items() if k != "resources"}
        return {**head, "resources": [r.as_dict() for r in self.resources]}


@dataclass
class _Track:
    """What the events of the current operation say about one logical resource."""

    type: str
    status: str = ""
    reason: str = ""
    physical_id: str = ""
    updated: datetime | None = None
    settled: bool = False  # reached a final state in this operation
    failure: str = ""  # its first failure reason in this operation

    def apply(self, event: Event) -> None:
        self.status = event.get("ResourceStatus", "")
        self.reason = event.get("ResourceStatusReason", "")
        self.physical_id = event.get("PhysicalResourceId") or self.physical_id
        self.updated = _when(event.get("Timestamp"))
        self.settled = self.settled or self.status.endswith(FINAL_SUFFIXES)
        if self.status.endswith("_FAILED") and not self.failure:
            self.failure = self.reason

    def is_replaced_copy(self, event: Event) -> bool:
        physical = event.get("PhysicalResourceId") or ""
        return event.get("ResourceStatus", "").startswith("DELETE_") and bool(self.physical_id) \
            and physical != self.physical_id


def progress_from(*, template_resources: dict[str, str], stack: dict[str, Any] | None, events: list[Event],
                  resources: list[dict[str, Any]] | None = None) -> StackProgress:
    """The progress of the stack's current (latest user-initiated) operation."""
    operation = current_operation(events)
    status = stack.get("StackStatus", "") if stack else _last_stack_event(operation).get("ResourceStatus", "")
    failure = first_failure(operation)
    phase, done, succeeded = _classify(status, failed_resource=failure is not None)
    tracks = _track(operation)
    reason = failure if failure is not None and not succeeded else _stack_reason(stack, operation, phase)
    return StackProgress(
        phase=phase, percent=_percent(template_resources, tracks, done), done=done, succeeded=succeeded,
        stack_status=status, reason=reason, resources=_rows(template_resources, tracks, resources or []),
    )


def events_since(events: list[Event], after_event_id: str | None) -> list[Event]:
    """The events newer than `after_event_id`, newest first (all of them when the id is not in the list)."""
    ids = [e.get("EventId") for e in events]
    return list(events[: ids.index(after_event_id)]) if after_event_id in ids else list(events)


def current_operation(events: list[Event]) -> list[Event]:
    """Oldest first, from the latest stack-level "User Initiated" event on (everything if there is none)."""
    chronological = list(reversed(events))
    starts = [i for i, e in enumerate(chronological)
              if is_stack_event(e) and e.get("ResourceStatusReason") == USER_INITIATED]
    return chronological[starts[-1]:] if starts else chronological


def is_stack_event(event: Event) -> bool:
    """About the stack itself (a nested stack is a resource: its physical id is another stack's)."""
    if event.get("ResourceType") != STACK_TYPE:
        return False
    return event.get("PhysicalResourceId") == event.get("StackId") or event.get("LogicalResourceId") == event.get(
        "StackName")


def first_failure(operation: list[Event]) -> str | None:
    """The reason of the first resource failure, preferring real causes over "Resource … cancelled"."""
    failed = [e for e in operation if not is_stack_event(e) and e.get("ResourceStatus", "").endswith("_FAILED")]
    causes = [e for e in failed if e.get("ResourceStatusReason", "") not in CANCELLED] or failed
    return causes[0].get("ResourceStatusReason", "") if causes else None


def _classify(status: str, *, failed_resource: bool) -> tuple[str, bool, bool]:
    """(phase, done, succeeded) for a stack status."""
    if status in SUCCEEDED:
        return "complete", True, True
    if status in FAILED:
        return "failed", True, False
    if status == "DELETE_COMPLETE":  # also how a create with OnFailure=DELETE ends: not a success then
        return "deleted", True, not failed_resource
    return RUNNING.get(status, "unknown"), False, False


def _track(operation: list[Event]) -> dict[str, _Track]:
    tracks: dict[str, _Track] = {}
    cleanup = False
    for event in operation:
        if is_stack_event(event):
            cleanup = event.get("ResourceStatus", "").endswith("CLEANUP_IN_PROGRESS")
            continue
        logical_id = event.get("LogicalResourceId") or ""
        track = tracks.setdefault(logical_id, _Track(type=event.get("ResourceType", "")))
        if not (cleanup and track.is_replaced_copy(event)):
            track.apply(event)
    return tracks


def _percent(template_resources: dict[str, str], tracks: dict[str, _Track], done: bool) -> int:
    if done:
        return 100
    if not template_resources:
        return 0
    settled = sum(1 for logical_id in template_resources if logical_id in tracks and tracks[logical_id].settled)
    return min(99, settled * 100 // len(template_resources))


def _rows(template_resources: dict[str, str], tracks: dict[str, _Track],
          listed: list[dict[str, Any]]) -> list[ResourceProgress]:
    """Template order first, then resources only the events or the resource list know about."""
    by_id = {r["LogicalResourceId"]: r for r in listed if r.get("LogicalResourceId")}
    order = dict.fromkeys([*template_resources, *tracks, *by_id])
    return [_row(logical_id, template_resources.get(logical_id), tracks.get(logical_id), by_id.get(logical_id))
            for logical_id in order]


def _row(logical_id: str, template_type: str | None, track: _Track | None,
         listed: dict[str, Any] | None) -> ResourceProgress:
    if track is not None:
        return ResourceProgress(logical_id, template_type or track.type, track.status, track.reason or track.failure,
                                track.physical_id, track.updated)
    if listed is not None:
        return ResourceProgress(logical_id, template_type or listed.get("ResourceType", ""), listed["ResourceStatus"],
                                listed.get("ResourceStatusReason", ""), listed.get("PhysicalResourceId", ""),
                                _when(listed.get("Timestamp")))
    return ResourceProgress(logical_id, template_type or "", "PENDING", "", "", None)


def _stack_reason(stack: dict[str, Any] | None, operation: list[Event], phase: str) -> str:
    """StackStatusReason (the latest stack event's reason without a stack); a failure without a resource
    to blame (a failed transform, say) falls back on the reason the rollback started with."""
    own = stack.get("StackStatusReason", "") if stack else _last_stack_event(operation).get("ResourceStatusReason", "")
    if own or phase not in ("failed", "rolling_back", "deleted"):
        return str(own or "")
    rollbacks = [e.get("ResourceStatusReason", "") for e in operation
                 if is_stack_event(e) and "ROLLBACK" in e.get("ResourceStatus", "")]
    return next((r for r in reversed(rollbacks) if r), "")


def _last_stack_event(operation: list[Event]) -> Event:
    return next((e for e in reversed(operation) if is_stack_event(e)), {})


def _when(value: Any) -> datetime | None:
    """botocore gives datetimes; JSON (fixtures, caches) gives ISO strings."""
    if isinstance(value, datetime) or value is None:
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
