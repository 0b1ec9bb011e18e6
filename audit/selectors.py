"""Reads of the event history, scoped to what the caller may see."""

import statistics
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.models import CloudTrailEvent
from portal.roles import User, is_developer, sees_everything

FILTERS = ("username", "team", "event_name", "event_source", "resource_id", "account_id", "region", "since",
           "until", "read_only", "errors")


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
    return events.prefetch_related("resources")


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
