"""The alerts dashboard (by signature, severity, team and day; top identities) and a team's report."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from triage.models import Alert, AlertStatus, Severity

DAYS = 14


def _counts(alerts: QuerySet[Alert], field: str) -> list[dict[str, Any]]:
    return [{"key": row[field] or "(none)", "alerts": row["n"], "hits": row["hits"]}
            for row in alerts.values(field).annotate(n=Count("id"), hits=Sum("count")).order_by("-n", field)[:20]]


def by_day(alerts: QuerySet[Alert], days: int = DAYS) -> dict[str, Any]:
    """Alerts first seen each day of the last `days`, stacked by severity, as SVG bars (server-rendered)."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    rows = alerts.filter(first_seen__date__gte=start).annotate(day=TruncDate("first_seen")).values(
        "day", "severity").annotate(n=Count("id"))
    grid = {(r["day"], r["severity"]): r["n"] for r in rows}
    peak = max([sum(grid.get((start + timedelta(d), s), 0) for s in Severity.values) for d in range(days)] + [1])
    colours = {"CRITICAL": "#c92a2a", "HIGH": "#f08c00", "MEDIUM": "#1c7ed6", "LOW": "#adb5bd"}
    bars, width, height = [], 40, 120
    for d in range(days):
        day = start + timedelta(d)
        y = height
        for severity in reversed(Severity.values):  # LOW at the bottom... CRITICAL on top
            n = grid.get((day, severity), 0)
            if n:
                h = n * height / peak
                y -= h
                bars.append({"x": d * width + 4, "y": round(y, 1), "h": round(h, 1), "colour": colours[severity],
                             "title": f"{day:%Y-%m-%d}: {n} {severity.lower()}"})
    labels = [{"x": d * width + 4, "text": f"{start + timedelta(d):%m-%d}"} for d in range(0, days, 2)]
    return {"bars": bars, "labels": labels, "width": days * width, "height": height, "peak": peak}


def summary(alerts: QuerySet[Alert]) -> dict[str, Any]:
    open_alerts = alerts.exclude(status=AlertStatus.RESOLVED)
    return {"open": open_alerts.count(), "total": alerts.count(),
            "by_severity": {s: open_alerts.filter(severity=s).count() for s in reversed(Severity.values)},
            "by_signature": _counts(alerts, "signature__name"), "by_team": _counts(alerts, "team__slug"),
            "top_identities": _counts(alerts, "identity")[:10], "chart": by_day(alerts)}


REPORT_FIELDS = ("id", "severity", "signature", "title", "status", "count", "first_seen", "last_seen", "account_id",
                 "region", "identity", "resource_id", "owner")


def report_rows(alerts: QuerySet[Alert]) -> list[dict[str, Any]]:
    return [{"id": a.pk, "severity": a.severity, "signature": a.signature.name, "title": a.title,
             "status": a.status, "count": a.count, "first_seen": a.first_seen.isoformat(),
             "last_seen": a.last_seen.isoformat(), "account_id": a.account_id, "region": a.region,
             "identity": a.identity, "resource_id": a.resource_id, "owner": a.owner}
            for a in alerts.select_related("signature")]


def report_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
    return out.getvalue()
