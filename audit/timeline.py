"""A resource's timeline: the entry type, the sources other apps register, links into the timeline page.

The timeline itself is read by `audit.selectors.resource_timeline`: configuration changes and the writes that
caused them, interleaved with the entries of every registered source (remediation and triage add theirs from
their AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from audit.models import CloudTrailEvent, ConfigResource, ConfigurationItem


@dataclass
class Entry:
    kind: str  # configuration, event; compliance, remediation, alert come with the rules
    time: datetime
    summary: str
    anchor: str
    diff: list[dict[str, Any]] = field(default_factory=list)
    item: ConfigurationItem | None = None
    event: CloudTrailEvent | None = None
    caused_by: list[CloudTrailEvent] = field(default_factory=list)

    @property
    def event_id(self) -> str:
        return self.event.event_id if self.event else ""


# Later parts of the portal (rules, remediation, alerts) add their own entries here:
# source(resource, before, limit) -> the newest `limit` entries older than `before` (None: now).
TIMELINE_SOURCES: list[Callable[[ConfigResource, datetime | None, int], list[Entry]]] = []


def item_url(resource: ConfigResource, item: ConfigurationItem | None) -> str:
    """The resource's timeline page, opened at `item` (on the page that holds it, however old)."""
    if item is None:
        return resource.get_absolute_url()
    before = (item.capture_time + timedelta(microseconds=1)).isoformat()
    return f"{resource.get_absolute_url()}?{urlencode({'before': before})}#item-{item.state_id}"
