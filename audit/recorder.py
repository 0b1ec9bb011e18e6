"""The configuration recorder: snapshots become configuration items with diffs, relationships and deletions.

A new item is written only when the resource really changed (its canonical content hash differs). Each item
keeps its diff from the item before. Full scans also find deletions; event-driven refreshes snapshot just the
resources an ingested CloudTrail event touched (and, one level out, what they are related to).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.config.awsconfig import AwsConfigCollector
from audit.config.base import GLOBAL, Collector, Snapshot
from audit.config.collectors.configservice import recorder_status
from audit.config.diff import changes, content_hash
from audit.config.registry import collectors
from audit.models import (
    ChangeType,
    CloudTrailEvent,
    ConfigResource,
    ConfigurationItem,
    EventResource,
    ItemStatus,
    RecorderState,
    ResourceRelationship,
)
from audit.signals import configuration_recorded
from portal import aws
from portal.models import Account

log = logging.getLogger(__name__)

RECORDER_TYPE = "AWS::Config::ConfigurationRecorder"
# Calls whose records do not name the resource they change: the whole type is scanned again in that region.
EVENT_RESCANS = {"CreateFlowLogs": "AWS::EC2::FlowLog", "DeleteFlowLogs": "AWS::EC2::FlowLog"}
RECORDER_EVENTS = {"StartConfigurationRecorder", "StopConfigurationRecorder", "PutConfigurationRecorder",
                   "DeleteConfigurationRecorder", "PutDeliveryChannel", "DeleteDeliveryChannel"}
CHUNK = 500
# When a capture happens. CloudTrail's eventTime has whole seconds: a test that needs a call in a later second
# than a capture moves this clock (and the sandbox's) on instead of sleeping.
clock: Callable[[], datetime] = timezone.now


@dataclass
class Stats:
    seen: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    api_calls: int = 0
    errors: list[str] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)

    def add(self, other: "Stats") -> None:
        for name in ("seen", "created", "updated", "deleted", "api_calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        self.changed_ids += other.changed_ids

    def as_dict(self) -> dict[str, Any]:
        return {"seen": self.seen, "created": self.created, "updated": self.updated, "deleted": self.deleted,
                "api_calls": self.api_calls, "errors": self.errors[:20]}


class Clients:
    """Clients acting as one of the portal's roles in one account (the account's reading role unless told;
    remediation passes AWS_REMEDIATION_ROLE_NAME), counting the calls they make."""

    def __init__(self, account: Account, role_name: str | None = None,
                 session_name: str = "guardrail-recorder") -> None:
        self.account = account
        self.role_name = role_name or account.role_name or None
        self.session_name = session_name
        self.calls = 0
        self._built: dict[tuple[str, str], Any] = {}

    def _count(self, **kwargs: Any) -> None:
        self.calls += 1

    def __call__(self, service: str, region: str) -> Any:
        region = settings.AWS_DEFAULT_REGION if region in (GLOBAL, "") else region
        key = (service, region)
        if key not in self._built:
            built = aws.client(service, account_id=self.account.account_id, region=region,
                               role_name=self.role_name, session_name=self.session_name)
            built.meta.events.register("before-call", self._count)
            self._built[key] = built
        return self._built[key]


def collector_for(account: Account, resource_type: str) -> Collector:
    """The describe-based collector, or AWS Config's own items for accounts configured to read them."""
    collector = collectors()[resource_type]
    if account.config_source == "AWS_CONFIG":
        return AwsConfigCollector(resource_type, collector.global_)
    return collector


def _document(snapshot: Snapshot) -> dict[str, Any]:
    return {"configuration": snapshot.configuration, "supplementary": snapshot.supplementary,
            "tags": snapshot.tags, "relationships": [r.as_dict() for r in sorted(set(snapshot.relationships))]}


def _resource_document(resource: ConfigResource) -> dict[str, Any] | None:
    if resource.status == ItemStatus.DELETED:
        return None
    return {"configuration": resource.configuration, "supplementary": resource.supplementary, "tags": resource.tags,
            "relationships": resource.relationships}


def _relationship_rows(resource: ConfigResource) -> list[ResourceRelationship]:
    return [ResourceRelationship(resource=resource, name=r["relationshipName"], target_type=r["resourceType"],
                                 target_id=r["resourceId"][:512]) for r in resource.relationships]


def _write(resource: ConfigResource, previous: dict[str, Any] | None, document: dict[str, Any] | None, *,
           now: datetime, cause: str, digest: str) -> ConfigurationItem:
    """The resource row takes the new state; the item records it with its diff (caller holds a transaction)."""
    if document is None:
        status, change_type = ItemStatus.DELETED, ChangeType.DELETE
    elif previous is None:
        status, change_type = ItemStatus.DISCOVERED, ChangeType.CREATE
    else:
        status, change_type = ItemStatus.OK, ChangeType.UPDATE
    resource.state_id += 1
    resource.status = status
    resource.content_hash = digest
    resource.last_changed = resource.last_captured = now
    if document is not None:
        resource.configuration = document["configuration"]
        resource.supplementary = document["supplementary"]
        resource.tags = document["tags"]
        resource.relationships = document["relationships"]
    else:
        resource.relationships = []
    return ConfigurationItem(
        resource=resource, state_id=resource.state_id, status=status, change_type=change_type, capture_time=now,
        configuration=resource.configuration if document else {}, supplementary=resource.supplementary if document else {},
        tags=resource.tags if document else {}, relationships=resource.relationships, content_hash=digest,
        diff=changes(previous, document), cause=cause)


def snapshots_record(*, account: Account, resource_type: str, snapshots: Iterable[Snapshot], cause: str,
                     complete_regions: set[str] | None = None, now: datetime | None = None) -> Stats:
    """Record snapshots of one type in one account. With `complete_regions` (a full scan of those regions, or
    of every region for a global type when it holds GLOBAL), a known resource that is missing was deleted."""
    now = now or clock()
    stats = Stats()
    wanted: dict[tuple[str, str], tuple[Snapshot, dict, str]] = {}
    for snapshot in snapshots:
        document = _document(snapshot)
        wanted[(snapshot.region, snapshot.resource_id[:512])] = (snapshot, document, content_hash(document))
    stats.seen = len(wanted)
    known = ConfigResource.objects.filter(account_id=account.account_id, resource_type=resource_type)
    if complete_regions is None:
        known = known.filter(resource_id__in={rid for _, rid in wanted})
    elif GLOBAL not in complete_regions:
        known = known.filter(region__in=complete_regions)
    current = {(r["region"], r["resource_id"]): r for r in known.values("pk", "region", "resource_id", "content_hash",
                                                                         "status")}
    to_change = [key for key, (_, _, digest) in wanted.items()
                 if key not in current or current[key]["content_hash"] != digest
                 or current[key]["status"] == ItemStatus.DELETED]
    changing = set(to_change)
    unchanged = [current[key]["pk"] for key in wanted if key not in changing]
    gone = [] if complete_regions is None else [
        row["pk"] for key, row in current.items() if key not in wanted and row["status"] != ItemStatus.DELETED]
    for start in range(0, len(unchanged), CHUNK):
        ConfigResource.objects.filter(pk__in=unchanged[start:start + CHUNK]).update(last_captured=now)
    for start in range(0, len(to_change), CHUNK):
        _apply(account, resource_type, [wanted[key] for key in to_change[start:start + CHUNK]], current, now, cause,
               stats)
    for start in range(0, len(gone), CHUNK):
        _delete(ConfigResource.objects.filter(pk__in=gone[start:start + CHUNK]), now, cause, stats)
    return stats


def _apply(account: Account, resource_type: str, batch: list[tuple[Snapshot, dict, str]], current: dict, now: datetime,
           cause: str, stats: Stats) -> None:
    pks = [current[(s.region, s.resource_id[:512])]["pk"] for s, _, _ in batch if (s.region, s.resource_id[:512]) in current]
    rows = {(r.region, r.resource_id): r for r in ConfigResource.objects.filter(pk__in=pks)}
    items, fresh, touched = [], [], []
    with transaction.atomic():
        for snapshot, document, digest in batch:
            key = (snapshot.region, snapshot.resource_id[:512])
            resource = rows.get(key)
            if resource is None:
                resource = ConfigResource(account_id=account.account_id, region=snapshot.region,
                                          resource_type=resource_type, resource_id=key[1], team_id=account.team_id,
                                          first_seen=now, last_changed=now, last_captured=now)
                fresh.append(resource)
            else:
                touched.append(resource)
            previous = _resource_document(resource) if resource.pk else None
            resource.arn, resource.name, resource.created = snapshot.arn[:1024], snapshot.name[:512], snapshot.created
            resource.team_id = account.team_id
            items.append(_write(resource, previous, document, now=now, cause=cause, digest=digest))
            stats.created += previous is None
            stats.updated += previous is not None
        ConfigResource.objects.bulk_create(fresh)
        ConfigResource.objects.bulk_update(touched, ["arn", "name", "created", "team", "state_id", "status",
                                                     "content_hash", "last_changed", "last_captured", "configuration",
                                                     "supplementary", "tags", "relationships"])
        for item in items:
            item.resource_id = item.resource.pk
        ConfigurationItem.objects.bulk_create(items)
        all_rows = fresh + touched
        ResourceRelationship.objects.filter(resource__in=touched).delete()
        ResourceRelationship.objects.bulk_create([rel for r in all_rows for rel in _relationship_rows(r)],
                                                 ignore_conflicts=True)
    stats.changed_ids += [r.pk for r in all_rows]
    configuration_recorded.send(sender=ConfigResource, resource_ids=[r.pk for r in all_rows])


def _delete(resources: Iterable[ConfigResource], now: datetime, cause: str, stats: Stats) -> None:
    with transaction.atomic():
        rows = list(resources)
        items = [_write(r, _resource_document(r), None, now=now, cause=cause, digest="") for r in rows]
        ConfigResource.objects.bulk_update(rows, ["state_id", "status", "content_hash", "last_changed",
                                                  "last_captured", "relationships"])
        ConfigurationItem.objects.bulk_create(items)
        ResourceRelationship.objects.filter(resource__in=rows).delete()
    stats.deleted += len(rows)
    stats.changed_ids += [r.pk for r in rows]
    if rows:
        configuration_recorded.send(sender=ConfigResource, resource_ids=[r.pk for r in rows])


def resource_refresh(*, clients: Clients, resource_type: str, region: str, resource_id: str,
                     cause: str = "EVENT") -> Stats:
    """Snapshot one resource now: a new item if it changed, a deletion if AWS no longer has it."""
    account = clients.account
    collector = collector_for(account, resource_type)
    snapshot = collector.get(clients, region, resource_id)
    if snapshot is not None:
        return snapshots_record(account=account, resource_type=resource_type, snapshots=[snapshot], cause=cause)
    stats = Stats()
    known = ConfigResource.objects.filter(account_id=account.account_id, resource_type=resource_type,
                                          resource_id=resource_id).exclude(status=ItemStatus.DELETED)
    if region != GLOBAL and not collector.global_:
        known = known.filter(region=region)
    _delete(known, clock(), cause, stats)
    return stats


# --- recording on or off, mirrored from the account's Config recorder ---

def recorder_state_refresh(*, clients: Clients, region: str) -> RecorderState:
    state, _ = RecorderState.objects.get_or_create(account=clients.account, region=region)
    recorders = recorder_status(clients, region)
    recording = any(r["recording"] for r in recorders)
    if not recorders:
        reason = "no Config recorder in this region"
    elif recording:
        reason = ""
    else:
        reason = f"{', '.join(r['name'] for r in recorders)} stopped"
    now = clock()
    changed = state.recording is not None and state.recording != recording
    RecorderState.objects.filter(pk=state.pk).update(
        recording=recording, recorder_name=", ".join(r["name"] for r in recorders)[:256], reason=reason, checked=now,
        changed=now if changed or state.changed is None else state.changed)
    state.refresh_from_db()
    return state


def recording_regions(account: Account) -> set[str]:
    return set(RecorderState.objects.filter(account=account, recording=True).values_list("region", flat=True))


# --- full scans and event-driven refreshes ---

def account_scan(*, account: Account, regions: list[str] | None = None) -> dict[str, Any]:
    """Every recorded type in each of the account's regions (global types once); per-type stats."""
    clients = Clients(account)
    regions = regions or list(account.allowed_regions) or [settings.AWS_DEFAULT_REGION]
    result: dict[str, Any] = {"types": {}, "regions": {}, "errors": []}
    totals = Stats()
    recording: set[str] = set()
    for region in regions:
        try:
            state = recorder_state_refresh(clients=clients, region=region)
            result["regions"][region] = {"recording": state.recording, "reason": state.reason}
            if state.recording:
                recording.add(region)
        except aws.AWS_ERRORS as exc:
            result["errors"].append(f"{region}: recorder status: {aws.error_code(exc)}")
    for resource_type in collectors():
        collector = collector_for(account, resource_type)
        scopes = [GLOBAL] if collector.global_ else regions
        if resource_type != RECORDER_TYPE:
            scopes = [s for s in scopes if (s in recording if s != GLOBAL else recording)]
        for scope in scopes:
            before = clients.calls
            try:
                snapshots = list(collector.scan(clients, settings.AWS_DEFAULT_REGION if scope == GLOBAL else scope))
            except aws.AWS_ERRORS as exc:
                result["errors"].append(f"{resource_type} in {scope}: {aws.error_code(exc)}: {exc}"[:300])
                continue
            complete = {GLOBAL} if collector.global_ else {scope}
            if collector.global_ and not recording >= set(regions):
                # only the regions being recorded are complete for a global type whose items carry a region
                complete = {GLOBAL} if resource_type.startswith("AWS::IAM::") else recording
                snapshots = [s for s in snapshots if s.region in complete or s.region == GLOBAL]
            stats = snapshots_record(account=account, resource_type=resource_type, snapshots=snapshots,
                                     cause="SCAN", complete_regions=complete)
            stats.api_calls = clients.calls - before
            totals.add(stats)
            row = result["types"].setdefault(resource_type, Stats().as_dict())
            for name, value in stats.as_dict().items():
                if name != "errors":
                    row[name] += value
    result["totals"] = totals.as_dict()
    result["totals"]["api_calls"] = clients.calls
    return result


def events_targets(event_ids: list[str]) -> dict[str, set[tuple[str, str, str]]]:
    """{account_id: {(type, region, resource id)}} to snapshot for these events (writes that succeeded)."""
    known = collectors()
    targets: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    events = CloudTrailEvent.objects.filter(event_id__in=event_ids, read_only=False, error_code="")
    for event_pk, account_id, region, name in events.values_list("pk", "account_id", "region", "event_name"):
        if name in EVENT_RESCANS:
            targets[account_id].add((EVENT_RESCANS[name], region, "*"))
    rows = EventResource.objects.filter(event__in=events, resource_type__in=list(known)).values_list(
        "event__account_id", "event__region", "resource_type", "resource_id")
    for account_id, region, resource_type, resource_id in rows:
        scope = GLOBAL if known[resource_type].global_ else region
        targets[account_id].add((resource_type, scope, resource_id))
    return targets


def events_record(*, account: Account, event_ids: list[str]) -> dict[str, Any]:
    """Snapshot what these events touched, then what the changed resources are related to (one level out)."""
    clients = Clients(account)
    targets = events_targets(event_ids).get(account.account_id, set())
    totals = Stats()
    if any(t[0] == RECORDER_TYPE for t in targets) or CloudTrailEvent.objects.filter(
            event_id__in=event_ids, event_name__in=RECORDER_EVENTS).exists():
        for region in {t[1] for t in targets if t[0] == RECORDER_TYPE} or {settings.AWS_DEFAULT_REGION}:
            recorder_state_refresh(clients=clients, region=region)
    recording = recording_regions(account)
    done: set[tuple[str, str, str]] = set()

    def refresh(targets: Iterable[tuple[str, str, str]]) -> None:
        for resource_type, region, resource_id in sorted(targets):
            key = (resource_type, region, resource_id)
            if key in done or resource_type not in collectors():
                continue
            done.add(key)
            if resource_type != RECORDER_TYPE and not (recording if region == GLOBAL else region in recording):
                continue
            try:
                if resource_id == "*":
                    collector = collector_for(account, resource_type)
                    totals.add(snapshots_record(account=account, resource_type=resource_type, cause="EVENT",
                                                snapshots=list(collector.scan(clients, region)),
                                                complete_regions={region}))
                else:
                    totals.add(resource_refresh(clients=clients, resource_type=resource_type, region=region,
                                                resource_id=resource_id))
            except aws.AWS_ERRORS as exc:
                totals.errors.append(f"{resource_type} {resource_id}: {aws.error_code(exc)}")

    refresh(targets)
    first_changes = list(totals.changed_ids)
    neighbours: set[tuple[str, str, str]] = set()
    for resource in ConfigResource.objects.filter(pk__in=first_changes):
        previous = resource.items.filter(state_id=resource.state_id - 1).values_list("relationships", flat=True).first()
        for rel in list(resource.relationships) + list(previous or []):
            if rel["resourceType"] in collectors():
                scope = GLOBAL if collectors()[rel["resourceType"]].global_ else resource.region
                neighbours.add((rel["resourceType"], scope, rel["resourceId"]))
    refresh(neighbours)
    totals.api_calls = clients.calls
    return totals.as_dict() | {"targets": len(done)}
