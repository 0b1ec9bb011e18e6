"""Reads, scoped to what the caller may see: the event history, the inventory (resources, their relationships and
past states) and a resource's timeline."""

from __future__ import annotations

import statistics
from bisect import bisect_left
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import (CloudTrailEvent, ConfigResource, ConfigurationItem, EventResource, ItemStatus,
                          PortalCallCount, ResourceRelationship)
from audit.timeline import TIMELINE_SOURCES, Entry
from portal.roles import User, is_developer, sees_everything

FILTERS = ("username", "team", "event_name", "event_source", "resource_id", "account_id", "region", "since",
           "until", "read_only", "errors", "include_portal")


def events_visible_to(*, user: User) -> QuerySet[CloudTrailEvent]:
    events = CloudTrailEvent.objects.select_related("team", "person")
    if sees_everything(user):
        return events
    if is_developer(user):
        return events.filter(account_id__in=user.teams.values("accounts__account_id"))
    return events.none()


def when_param(value: str, name: str) -> datetime:
    """A filter's ISO 8601 time; ValueError naming the filter."""
    parsed = parse_datetime(value) if value else None
    if parsed is None:
        raise ValueError(f"{name}: give an ISO 8601 time such as 2026-11-28T14:00:00Z")
    return parsed


def events_filter(events: QuerySet[CloudTrailEvent], params) -> QuerySet[CloudTrailEvent]:
    """Apply the history's filters; ValueError naming the filter for a bad value."""
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    if get("username"):
        events = events.filter(user_name=get("username"))
    if get("team"):
        events = events.filter(team__slug=get("team"))
    for name in ("event_name", "event_source", "account_id", "region"):
        if get(name):
            events = events.filter(**{name: get(name)})
    if get("resource_id"):
        events = events.filter(resources__resource_id=get("resource_id")).distinct()
    if get("since"):
        events = events.filter(event_time__gte=when_param(get("since"), "since"))
    if get("until"):
        events = events.filter(event_time__lte=when_param(get("until"), "until"))
    if get("read_only") in ("true", "false"):
        events = events.filter(read_only=get("read_only") == "true")
    elif get("read_only"):
        raise ValueError("read_only: give true or false")
    if get("errors") == "true":
        events = events.exclude(error_code="")
    include_portal = get("include_portal").lower()
    if include_portal not in ("", "true", "false", "1", "0"):
        raise ValueError("include_portal: give true or false (or 1 or 0)")
    if include_portal not in ("true", "1"):  # Guardrail's own calls are shown only when asked for
        events = events.filter(by_portal=False)
    return events.prefetch_related("resources")


def portal_call_counts_visible_to(*, user: User) -> QuerySet[PortalCallCount]:
    """The per account and day counts of Guardrail's own read-only calls, of the accounts `user` sees."""
    counts = PortalCallCount.objects.all()
    if sees_everything(user):
        return counts
    if is_developer(user):
        return counts.filter(account_id__in=user.teams.values("accounts__account_id"))
    return counts.none()


def portal_reads_today(*, user: User, account_id: str = "") -> int:
    """Guardrail's own read-only calls counted (not stored) today (UTC) in the accounts `user` sees."""
    counts = portal_call_counts_visible_to(user=user).filter(day=timezone.now().astimezone(dt_timezone.utc).date())
    if account_id:
        counts = counts.filter(account_id=account_id)
    return counts.aggregate(total=Sum("count"))["total"] or 0


def portal_call_counts_filter(counts: QuerySet[PortalCallCount], params) -> QuerySet[PortalCallCount]:
    """`account_id`, `since` and `until` (days, YYYY-MM-DD, both included); ValueError naming the filter."""
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    if get("account_id"):
        counts = counts.filter(account_id=get("account_id"))
    for name, lookup in (("since", "day__gte"), ("until", "day__lte")):
        if get(name):
            try:
                day = parse_date(get(name)) if len(get(name)) == 10 else None
            except ValueError:  # well formed, but no such day
                day = None
            if day is None:
                raise ValueError(f"{name}: give a day such as 2026-11-28")
            counts = counts.filter(**{lookup: day})
    return counts


LAG_WINDOW = timedelta(minutes=5)
LAG_SAMPLE = 1000  # the newest stored events the median is taken over
LAG_SCAN = 100_000  # how far back by id a team's sample is looked for


def ingest_lag_seconds(*, team_id: int | None = None) -> float | None:
    """Median of event time → stored over the events stored in the last 5 minutes (the newest 1,000 at most), of
    one team's accounts or of all. The newest rows by primary key are the newest stored: read through the key's
    index within the last LAG_SCAN ids, never the whole table (`ingested` has no index)."""
    since = timezone.now() - LAG_WINDOW
    rows = CloudTrailEvent.objects.order_by("-id")
    if team_id is not None:
        newest = CloudTrailEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        rows = rows.filter(team_id=team_id, id__gt=newest - LAG_SCAN)
    lags = [(ingested - event_time).total_seconds()
            for ingested, event_time in rows.values_list("ingested", "event_time")[:LAG_SAMPLE] if ingested >= since]
    return float(statistics.median(lags)) if lags else None


# --- the inventory --------------------------------------------------------------------------------------------

RESOURCE_FILTERS = ("resource_type", "resource_id", "account_id", "region", "team", "tag", "q", "status")


def resources_visible_to(*, user: User) -> QuerySet[ConfigResource]:
    resources = ConfigResource.objects.select_related("team")
    if sees_everything(user):
        return resources
    if is_developer(user):
        return resources.filter(account_id__in=user.teams.values("accounts__account_id"))
    return resources.none()


def resources_filter(resources: QuerySet[ConfigResource], params) -> QuerySet[ConfigResource]:
    """The inventory's filters; ValueError naming the filter for a bad value."""
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    for name in ("resource_type", "resource_id", "account_id", "region"):
        if get(name):
            resources = resources.filter(**{name: get(name)})
    if get("team"):
        resources = resources.filter(team__slug=get("team"))
    if get("tag"):
        key, sep, value = get("tag").partition("=")
        if not key:
            raise ValueError("tag: give key or key=value")
        resources = resources.filter(tags__has_key=key) if not sep else resources.filter(**{f"tags__{key}": value})
    if get("q"):
        resources = resources.filter(Q(name__icontains=get("q")) | Q(resource_id__icontains=get("q")))
    status = get("status")
    if status == "deleted":
        resources = resources.filter(status=ItemStatus.DELETED)
    elif status in ("", "current"):
        resources = resources.exclude(status=ItemStatus.DELETED) if status == "current" else resources
    elif status != "all":
        raise ValueError("status: give current, deleted or all")
    return resources


def counts_by_type(resources: QuerySet[ConfigResource]) -> list[dict[str, Any]]:
    return list(resources.order_by().values("resource_type").annotate(count=Count("pk")).order_by("-count",
                                                                                                  "resource_type"))


def item_at(resource: ConfigResource, when: datetime | str) -> ConfigurationItem | None:
    """The item in effect at `when` (the newest captured at or before it); None before the first."""
    if isinstance(when, str):
        when = when_param(when, "at")
    if timezone.is_naive(when):
        when = timezone.make_aware(when, dt_timezone.utc)  # the pages show and take UTC
    return resource.items.filter(capture_time__lte=when).order_by("-capture_time", "-state_id").first()


def related_resources(resource: ConfigResource) -> list[dict[str, Any]]:
    """Both directions: what this resource names, and the resources that name it (which instances use this group)."""
    out = [(r.name, r.target_type, r.target_id) for r in resource.related.all()]
    incoming = ResourceRelationship.objects.filter(
        target_type=resource.resource_type, target_id=resource.resource_id,
        resource__account_id=resource.account_id).select_related("resource")
    found = {(t, i): {"name": n, "resource_type": t, "resource_id": i, "resource": None} for n, t, i in out}
    for rel in incoming:
        key = (rel.resource.resource_type, rel.resource.resource_id)
        found.setdefault(key, {"name": f"Used by {rel.resource.resource_type.rsplit('::', 1)[-1]}",
                               "resource_type": key[0], "resource_id": key[1], "resource": rel.resource})
    known = {(r.resource_type, r.resource_id): r for r in ConfigResource.objects.filter(
        account_id=resource.account_id, resource_id__in=[k[1] for k in found])}
    for key, row in found.items():
        row["resource"] = row["resource"] or known.get(key)
    return sorted(found.values(), key=lambda r: (r["resource_type"], r["resource_id"]))


def event_configuration_links(event: CloudTrailEvent) -> dict[str, tuple[ConfigResource, ConfigurationItem | None]]:
    """For each resource the event touched that the recorder knows: the resource and the item the event caused
    (the first one captured at or after the event), keyed by resource id."""
    links: dict[str, tuple[ConfigResource, ConfigurationItem | None]] = {}
    for touched in event.resources.all():
        resource = ConfigResource.objects.filter(account_id=event.account_id, resource_type=touched.resource_type,
                                                 resource_id=touched.resource_id).first()
        if resource is None:
            continue
        item = None
        if not event.read_only and not event.error_code:
            item = resource.items.filter(capture_time__gte=event.event_time).order_by("capture_time",
                                                                                      "state_id").first()
        links[touched.resource_id] = (resource, item)
    return links


# --- a resource's timeline ------------------------------------------------------------------------------------

_EVENT_FIELDS = ("pk", "event_id", "event_time", "event_name", "event_source", "user_name", "identity_arn",
                 "source_ip", "error_code", "read_only", "account_id")


def _writes_on(resource: ConfigResource) -> QuerySet[CloudTrailEvent]:
    """The calls that tried to change it (reads, the recorder's own describes among them, are left out).
    Found through the resource-id index, and loaded without the raw record."""
    touching = EventResource.objects.filter(resource_type=resource.resource_type,
                                            resource_id=resource.resource_id).values("event_id")
    return CloudTrailEvent.objects.filter(pk__in=touching, account_id=resource.account_id,
                                          read_only=False).only(*_EVENT_FIELDS)


def _item_summary(item: ConfigurationItem) -> str:
    if item.change_type == "CREATE":
        return "Recorded for the first time"
    if item.change_type == "DELETE":
        return "Deleted"
    paths = sorted({c["path"].split("[")[0].split(".")[0] or "resource" for c in item.diff})
    return f"{len(item.diff)} change{'s' if len(item.diff) != 1 else ''} in {', '.join(paths)}"


def _event_summary(event: CloudTrailEvent) -> str:
    who = event.user_name or event.identity_arn or "someone"
    where = f" from {event.source_ip}" if event.source_ip else ""
    failed = f" — failed: {event.error_code}" if event.error_code else ""
    return f"{event.event_name} by {who}{where}{failed}"


def resource_timeline(resource: ConfigResource, *, before: datetime | None = None,
                      limit: int = 100) -> tuple[list[Entry], datetime | None]:
    """One page, newest first: configuration changes (each with the writes that caused it) interleaved with
    those writes and the other sources' entries; and the `before` of the next (older) page, or None."""
    items_q = resource.items.defer("configuration", "supplementary", "tags", "relationships")
    events_q = _writes_on(resource)
    if before is not None:
        items_q, events_q = items_q.filter(capture_time__lt=before), events_q.filter(event_time__lt=before)
    loaded = list(items_q.order_by("-capture_time", "-state_id")[:limit + 1])
    floor = loaded[limit].capture_time if len(loaded) > limit else None  # the item before the oldest shown
    items = loaded[:limit][::-1]
    events = list(events_q.order_by("-event_time")[:limit + 1])
    entries = [Entry("event", e.event_time, _event_summary(e), f"event-{e.event_id}", event=e) for e in events]
    if items:  # the writes that led to each item: those since the item before it
        # CloudTrail's eventTime has whole seconds: a call in the same second as a capture may have come just
        # before or just after it, so it is counted for both items.
        newest, oldest = items[-1].capture_time, floor.replace(microsecond=0) if floor is not None else None
        if len(events) <= limit or (oldest is not None and events[-1].event_time < oldest):
            # the writes already loaded reach back past the oldest item's window: no second query
            found = [e for e in reversed(events) if not e.error_code and e.event_time <= newest
                     and (oldest is None or e.event_time >= oldest)][:5000]
        else:
            causes = events_q.filter(error_code="", event_time__lte=newest)
            if oldest is not None:
                causes = causes.filter(event_time__gte=oldest)
            found = list(causes.order_by("event_time")[:5000])
        times = [i.capture_time for i in items]
        caused: dict[int, list[CloudTrailEvent]] = {}
        for event in found:
            at = bisect_left(times, event.event_time)
            caused.setdefault(at, []).append(event)
            if at + 1 < len(times) and times[at].replace(microsecond=0) == event.event_time:
                caused.setdefault(at + 1, []).append(event)
        entries += [Entry("configuration", item.capture_time, _item_summary(item), f"item-{item.state_id}",
                          diff=item.diff, item=item, caused_by=caused.get(at, [])) for at, item in enumerate(items)]
    for source in TIMELINE_SOURCES:
        entries.extend(source(resource, before, limit + 1))
    entries.sort(key=lambda e: (e.time, e.kind == "configuration"), reverse=True)
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, (entries[-1].time if more and entries else None)
