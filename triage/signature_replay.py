"""Signatures replayed over the stored CloudTrail events of a past window (a dry run's signature part): what a
draft, or a stored signature whatever its status, would have fired, and what the stored one really did.

The events are read in time order and matched as live (`triage.services.events_match`): the index, the stateless
conditions, the threshold (counted in memory over the window's own hits: a hit from before `since` does not
count), then one would-be alert per fingerprint (`triage.services.fingerprint`) while its hits come within the
signature's dedup_minutes of each other. Every signature alerts here, a STAGING or OFF one too: that is what is
asked. Nothing is written.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError

from audit.models import CloudTrailEvent
from portal.models import Account
from triage.models import Alert, Severity, Signature, SignatureHit
from triage.signature_matching import (
    Compiled,
    EventView,
    SignatureIndex,
    compile_signature,
    conditions_check,
)
from triage.services import SIGNATURE_FIELDS, event_view, fingerprint, signature_check

CHUNK = 1000
PROGRESS_EVERY = 500
EXAMPLES = 10
EVENT_IDS_SHOWN = 5
HOURLY_UP_TO = timedelta(hours=48)  # a longer window is charted by day
SNAPSHOT_FIELDS = ("name", "title", "pattern", "conditions", "severity", "dedup_minutes", "version", "status")
DRAFT_DEFAULTS = {"description": "", "conditions": {}, "severity": Severity.MEDIUM, "tags": [],
                  "actions": [{"action": "alert"}], "dedup_minutes": 60, "tests": {},
                  "status": Signature.Status.STAGING}


# --- what a dry run replays ---

def signature_names() -> list[str]:
    return list(Signature.objects.order_by("name").values_list("name", flat=True))


def signature_snapshot(signature: Signature) -> dict[str, Any]:
    """A stored signature, its current version, as the dry run will replay it."""
    return {**{f: getattr(signature, f) for f in SNAPSHOT_FIELDS}, "draft": False}


def draft_snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """A definition not saved yet, over the stored signature of that name if there is one (ValidationError naming
    each field that is wrong, as `signature_save` would)."""
    unknown = sorted(set(values) - set(SIGNATURE_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: [f"Not a signature field (known: {', '.join(SIGNATURE_FIELDS)})."]})
    stored = Signature.objects.filter(name=values.get("name") or "").first()
    base = {f: getattr(stored, f) for f in SIGNATURE_FIELDS} if stored else {"name": "", "title": "",
                                                                                "pattern": None, **DRAFT_DEFAULTS}
    merged = {**base, **values}
    signature_check(merged)
    if isinstance(merged["pattern"], str):
        merged["pattern"] = json.loads(merged["pattern"])
    return {**{f: merged[f] for f in SNAPSHOT_FIELDS if f != "version"}, "version": None, "draft": True,
            "base_version": stored.version if stored else None}


# --- replaying them ---

def dry_run_snapshots(names: Any, drafts: Any) -> list[dict[str, Any]]:
    """Snapshots of the stored signatures named (any status: that is how a draft saved OFF or STAGING is tried)
    and of the drafts not saved yet; a draft replaces the stored signature of its name."""
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"signatures": ["Give a list of signature names."]})
    if not isinstance(drafts, list | tuple):
        raise ValidationError({"signature_drafts": ["Give a list of signatures (JSON objects)."]})
    stored = {s.name: s for s in Signature.objects.filter(name__in=names)}
    missing = sorted(set(names) - set(stored))
    if missing:
        raise ValidationError({"signatures": [f"No signature named {', '.join(missing)}."]})
    snapshots = {name: signature_snapshot(signature) for name, signature in stored.items()}
    named: set[str] = set()
    for i, values in enumerate(drafts, start=1):
        if not isinstance(values, dict):
            raise ValidationError({"signature_drafts": [f"Draft {i}: give a signature as a JSON object."]})
        label = f"Draft {i}" + (f" ({values['name']})" if values.get("name") else "")
        try:
            snap = draft_snapshot(values)
        except ValidationError as exc:
            raise ValidationError({"signature_drafts": [f"{label}: {field}: {message}" for field, messages in
                                                        exc.message_dict.items() for message in messages]}) from None
        if snap["name"] in named:
            raise ValidationError({"signature_drafts": [f"{label}: name: two drafts are named {snap['name']}."]})
        named.add(snap["name"])
        snapshots[snap["name"]] = snap
    return [snapshots[name] for name in sorted(snapshots)]


class _Tally:
    """One signature's replay: its hits, the threshold's recent hits, its would-be alerts."""

    def __init__(self, snap: dict[str, Any], start: datetime, step: timedelta, buckets: int) -> None:
        self.snap = snap
        self.row = Signature(name=snap["name"], title=snap["title"])  # what `fingerprint` reads; never saved
        self.threshold = (snap.get("conditions") or {}).get("threshold")
        self.dedup = timedelta(minutes=snap["dedup_minutes"])
        self.hits = 0
        self.recent: dict[str, deque[datetime]] = defaultdict(deque)
        self.open: dict[str, dict[str, Any]] = {}  # fingerprint -> its latest would-be alert
        self.alerts: list[dict[str, Any]] = []
        self.start, self.step = start, step
        self.chart = [{"start": (start + i * step).isoformat(), "hits": 0, "alerts": 0} for i in range(buckets)]

    def _bucket(self, when: datetime) -> dict[str, Any]:
        return self.chart[min(int((when - self.start) / self.step), len(self.chart) - 1)]

    def hit(self, event: CloudTrailEvent, view: EventView) -> None:
        """As the live matching does: count it, and past the threshold (if any) raise or add to an alert."""
        self.hits += 1
        self._bucket(event.event_time)["hits"] += 1
        if self.threshold:
            times = self.recent[view.threshold_key(self.threshold.get("by", "identity"))[:300]]
            times.append(event.event_time)
            horizon = event.event_time - timedelta(minutes=self.threshold["minutes"])
            while times and times[0] <= horizon:
                times.popleft()
            if len(times) < self.threshold["count"]:
                return
        self._alert(event, view)

    def _alert(self, event: CloudTrailEvent, view: EventView) -> None:
        touched = next(iter(event.resources.all()), None)
        resource_id = touched.resource_id if touched else ""
        fp = fingerprint(self.row, view, resource_id)
        when = event.event_time
        current = self.open.get(fp)
        if current is not None and when - current["last_seen"] <= self.dedup:
            current["count"] += 1
            current["last_seen"] = when
            if len(current["event_ids"]) < EVENT_IDS_SHOWN:
                current["event_ids"].append(event.event_id)
            return
        self.open[fp] = {"fingerprint": fp, "title": f"{self.row.title}: {event.event_name} by "
                                                     f"{view.identity or 'someone'}"[:300],
                         "account_id": view.account_id, "identity": view.identity[:300], "resource_id": resource_id,
                         "first_seen": when, "last_seen": when, "count": 1, "event_ids": [event.event_id]}
        self.alerts.append(self.open[fp])
        self._bucket(when)["alerts"] += 1

    def report(self, since: datetime, until: datetime) -> dict[str, Any]:
        ours = {a["fingerprint"] for a in self.alerts}
        actual, theirs = _actual(self.snap["name"], since, until)
        examples = sorted(self.alerts, key=lambda a: (-a["count"], a["first_seen"]))[:EXAMPLES]
        return {"name": self.snap["name"], "title": self.snap["title"], "severity": self.snap["severity"],
                "version": self.snap["version"], "draft": self.snap["draft"],
                "base_version": self.snap.get("base_version"), "status": self.snap["status"],
                "hits": self.hits, "alerts": len(self.alerts),
                "examples": [{**a, "first_seen": a["first_seen"].isoformat(), "last_seen": a["last_seen"].isoformat()}
                             for a in examples],
                "chart": {"unit": "hour" if self.step == timedelta(hours=1) else "day", "buckets": self.chart},
                "actual": actual,
                "comparison": {"same": len(ours & theirs), "only_in_dry_run": len(ours - theirs),
                               "only_actual": len(theirs - ours)}}


def _actual(name: str, since: datetime, until: datetime) -> tuple[dict[str, Any], set[str]]:
    """What the stored signature really did in the window: its live (not staged) hits, the alerts first seen
    then; and the fingerprints to compare with, those alerts and the ones the window's hits added to."""
    stored = Signature.objects.filter(name=name).first()
    if stored is None:
        return {"stored": False, "status": None, "version": None, "versions": [], "hits": 0, "alerts": 0}, set()
    hits = SignatureHit.objects.filter(signature=stored, staged=False, time__gte=since, time__lte=until)
    alerts = Alert.objects.filter(signature=stored, first_seen__gte=since, first_seen__lte=until)
    theirs = set(alerts.values_list("fingerprint", flat=True)) | set(
        hits.exclude(alert=None).values_list("alert__fingerprint", flat=True))
    return {"stored": True, "status": stored.status, "version": stored.version,
            "versions": sorted(set(hits.values_list("version", flat=True))), "hits": hits.count(),
            "alerts": alerts.count()}, theirs


def _compiled(snap: dict[str, Any], tally: _Tally) -> Compiled:
    """ValueError naming the signature and the field that does not compile."""
    conditions = snap.get("conditions") or {}
    try:
        conditions_check(conditions)
    except ValueError as exc:
        raise ValueError(f"signature {snap.get('name')}: {exc}") from None
    try:
        return compile_signature(snap["name"], snap.get("pattern"), conditions, tally)
    except ValueError as exc:
        raise ValueError(f"signature {snap.get('name')}: pattern: {exc}") from None


def signatures_replay(snapshots: list[dict[str, Any]], *, since: datetime, until: datetime,
                      progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Each snapshot's hits, would-be alerts (with examples and a chart) and what the stored one really did, over
    the stored events of [since, until]. `progress` is told how many events were read, now and then and at the
    end. ValueError naming the signature and the field if one does not compile."""
    step = timedelta(hours=1) if until - since <= HOURLY_UP_TO else timedelta(days=1)
    start = since.replace(minute=0, second=0, microsecond=0)
    if step == timedelta(days=1):
        start = start.replace(hour=0)
    buckets = int((until - start) / step) + 1
    tallies = [_Tally(snap, start, step, buckets) for snap in snapshots]
    index = SignatureIndex.build(_compiled(t.snap, t) for t in tallies)
    accounts = {a.account_id: a for a in Account.objects.select_related("team")}
    events = CloudTrailEvent.objects.filter(event_time__gte=since, event_time__lte=until).order_by(
        "event_time", "id").prefetch_related("resources")
    read = 0
    for event in events.iterator(chunk_size=CHUNK):
        read += 1
        if progress is not None and read % PROGRESS_EVERY == 0:
            progress(read)
        view = event_view(event, accounts)
        for compiled in index.match(view):
            compiled.ref.hit(event, view)
    if progress is not None:
        progress(read)
    return [t.report(since, until) for t in tallies]


def _many(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def chart_bars(chart: dict[str, Any], *, width: int = 10, height: int = 40) -> dict[str, Any]:
    """A report's chart as SVG bars (server-rendered): hits per bucket, the new would-be alerts over them."""
    buckets = chart["buckets"]
    peak = max([b["hits"] for b in buckets] + [1])
    bars = []
    for i, bucket in enumerate(buckets):
        if not bucket["hits"]:
            continue
        hits, alerts = bucket["hits"] * height / peak, bucket["alerts"] * height / peak
        bars.append({"x": i * width + 1, "hits_y": round(height - hits, 1), "hits_h": round(hits, 1),
                     "alerts_y": round(height - alerts, 1), "alerts_h": round(alerts, 1),
                     "title": f"{bucket['start'][:16].replace('T', ' ')} UTC: {_many(bucket['hits'], 'hit')}, "
                              f"{_many(bucket['alerts'], 'new alert')}"})
    return {"bars": bars, "width": len(buckets) * width, "height": height, "bar": width - 2, "peak": peak,
            "unit": chart["unit"]}
