"""Reads of the event history, scoped to what the caller may see."""

from datetime import datetime

from django.db.models import QuerySet
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
