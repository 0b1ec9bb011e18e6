"""Threat lists: known-bad addresses admins upload or have fetched from a URL (over HTTP, refreshed when due),
checked and stored one entry a line, and merged for the flow-log detector (`threats_current`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from triage.flowlogs.threats import ThreatList as Addresses
from triage.flowlogs.threats import ThreatListError
from triage.models import ThreatList

log = logging.getLogger(__name__)

MAX_LIST_BYTES = 20 * 1024 * 1024
MAX_LIST_ENTRIES = 500_000
FETCH_TIMEOUT = 15


@dataclass
class Threats:
    """The enabled lists merged for the detector, and which list each entry came from."""

    merged: Addresses | None
    lists: dict[str, Addresses]

    def list_of(self, entry: str) -> str:
        return next((name for name, addresses in self.lists.items() if addresses.match(entry.split("/")[0])), "")


def threats_current() -> Threats:
    lists: dict[str, Addresses] = {}
    for threat_list in ThreatList.objects.filter(enabled=True).exclude(entry_count=0):
        try:
            lists[threat_list.name] = Addresses.from_text(threat_list.entries, name=threat_list.name)
        except ThreatListError as exc:  # stored lists were checked; a bad one is skipped, not fatal
            log.warning("threat list %s cannot be read: %s", threat_list.name, exc)
    if not lists:
        return Threats(None, {})
    merged = Addresses(name=", ".join(lists))
    for text in ThreatList.objects.filter(name__in=list(lists)).values_list("entries", flat=True):
        for line in text.splitlines():
            if line.strip():
                merged.add(line.strip())
    return Threats(merged, lists)


def _entries(text: str) -> tuple[str, int]:
    """The list as stored (one entry a line, comments dropped, checked) and its size; ValidationError naming the
    bad lines."""
    if len(text.encode()) > MAX_LIST_BYTES:
        raise ValidationError({"entries": [f"The list is over {MAX_LIST_BYTES // (1024 * 1024)} MB."]})
    try:
        Addresses.from_text(text)
    except ThreatListError as exc:
        raise ValidationError({"entries": [str(exc)]}) from exc
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    kept = [line for line in lines if line]
    if len(kept) > MAX_LIST_ENTRIES:
        raise ValidationError({"entries": [f"The list has {len(kept):,} entries; at most {MAX_LIST_ENTRIES:,}."]})
    return "\n".join(kept), len(kept)


def threat_list_save(*, threat_list: ThreatList | None = None, user: Any = None, name: str, description: str = "",
                     source: str = ThreatList.Source.UPLOAD, url: str = "", entries: str | None = None,
                     refresh_hours: int = 24, enabled: bool = True) -> ThreatList:
    """Create or change a list; an uploaded list needs entries, a URL list is fetched at once."""
    errors: dict[str, list[str]] = {}
    if not name or slugify(name) != name:
        errors["name"] = ["Use lower-case letters, digits and dashes, like tor-exits."]
    elif len(name) > 100:
        errors["name"] = [f"At most 100 characters, not {len(name):,}."]
    elif ThreatList.objects.filter(name=name).exclude(pk=getattr(threat_list, "pk", None)).exists():
        errors["name"] = [f"A threat list named {name} exists already."]
    for field, value in (("description", description), ("url", url)):
        if "\x00" in value:
            errors[field] = ["Remove the NUL character (U+0000): no text may hold one."]
    if source not in ThreatList.Source.values:
        errors["source"] = [f"Give one of {', '.join(ThreatList.Source.values)}."]
    if source == ThreatList.Source.URL and not url.startswith(("https://", "http://")):
        errors["url"] = ["Give the http(s) address the list is fetched from."]
    elif len(url) > 500:
        errors["url"] = [f"At most 500 characters, not {len(url):,}."]
    if not isinstance(refresh_hours, int) or not 1 <= refresh_hours <= 24 * 30:
        errors["refresh_hours"] = ["Give a whole number of hours from 1 to 720."]
    stored = count = None
    if source == ThreatList.Source.UPLOAD:
        if entries is None and threat_list is None:
            errors["entries"] = ["Paste or upload the addresses, one a line."]
        elif entries is not None:
            try:
                stored, count = _entries(entries)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        threat_list = threat_list or ThreatList()
        threat_list.name, threat_list.description, threat_list.source = name, description[:300], source
        threat_list.url = url if source == ThreatList.Source.URL else ""
        threat_list.refresh_hours, threat_list.enabled, threat_list.updated_by = refresh_hours, enabled, user
        if stored is not None:
            threat_list.entries, threat_list.entry_count = stored, count
        threat_list.save()
    if source == ThreatList.Source.URL:
        threat_list = threat_list_fetch(threat_list.pk)
    return threat_list


def threat_list_fetch(threat_list_id: int) -> ThreatList:
    """Fetch a URL list again; on failure the entries are kept and the error recorded (never the URL's secrets)."""
    threat_list = ThreatList.objects.get(pk=threat_list_id)
    try:
        with requests.get(threat_list.url, timeout=FETCH_TIMEOUT, stream=True) as answer:
            answer.raise_for_status()
            body = b""
            for chunk in answer.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_LIST_BYTES:
                    raise ValidationError({"entries": [f"The list is over {MAX_LIST_BYTES // (1024 * 1024)} MB."]})
        stored, count = _entries(body.decode("utf-8", "replace"))
    except requests.RequestException as exc:
        error = f"cannot fetch the list: {type(exc).__name__}" + (
            f" (HTTP {exc.response.status_code})" if getattr(exc, "response", None) is not None else "")
        ThreatList.objects.filter(pk=threat_list.pk).update(fetch_error=error, fetched=timezone.now())
    except ValidationError as exc:
        ThreatList.objects.filter(pk=threat_list.pk).update(
            fetch_error="; ".join(exc.messages)[:500], fetched=timezone.now())
    else:
        ThreatList.objects.filter(pk=threat_list.pk).update(entries=stored, entry_count=count, fetch_error="",
                                                            fetched=timezone.now())
    threat_list.refresh_from_db()
    return threat_list


def threat_lists_due(*, now: datetime | None = None) -> list[int]:
    """URL lists whose refresh is due."""
    now = now or timezone.now()
    due = []
    for threat_list in ThreatList.objects.filter(source=ThreatList.Source.URL, enabled=True):
        if threat_list.fetched is None or threat_list.fetched <= now - timedelta(hours=threat_list.refresh_hours):
            due.append(threat_list.pk)
    return due
