"""The compliance dashboard's figures: counts by rule, account, team and type, HIPAA safeguards, the trend and its
SVG chart, the CSV and JSON exports."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Value
from django.utils import timezone

from remediation.models import Compliance, ComplianceSample, Finding
from remediation.selectors import active_exception

# HIPAA Security Rule safeguards (45 CFR 164.308 administrative, 164.312 technical) and the rules that give
# evidence for each, in the spirit of AWS's "Operational Best Practices for HIPAA Security" conformance pack
# and Prowler's HIPAA mapping.
HIPAA: list[tuple[str, str, tuple[str, ...]]] = [
    ("164.308(a)(1)(ii)(B)", "Risk management", ("required-tags", "desired-instance-type", "approved-amis-by-id",
                                                 "allowed-regions")),
    ("164.308(a)(1)(ii)(D)", "Information system activity review", (
        "cloudtrail-enabled", "multi-region-cloudtrail-enabled", "config-recorder-recording", "vpc-flow-logs-enabled")),
    ("164.308(a)(3)(i)", "Workforce security", ("restricted-ssh", "restricted-common-ports",
                                                "s3-bucket-public-read-prohibited",
                                                "s3-bucket-level-public-access-prohibited")),
    ("164.308(a)(4)(ii)(A)", "Isolating health care clearinghouse functions", (
        "vpc-sg-open-only-to-authorized-ports", "s3-bucket-level-public-access-prohibited")),
    ("164.308(a)(5)(ii)(D)", "Password management", ("mfa-enabled-for-iam-console-access", "root-account-mfa-enabled")),
    ("164.312(a)(1)", "Access control", ("restricted-ssh", "restricted-common-ports",
                                         "vpc-sg-open-only-to-authorized-ports", "s3-bucket-public-read-prohibited")),
    ("164.312(a)(2)(iv)", "Encryption and decryption", ("s3-bucket-server-side-encryption-enabled",)),
    ("164.312(b)", "Audit controls", ("cloudtrail-enabled", "multi-region-cloudtrail-enabled",
                                      "config-recorder-recording", "vpc-flow-logs-enabled")),
    ("164.312(d)", "Person or entity authentication", ("mfa-enabled-for-iam-console-access",
                                                       "root-account-mfa-enabled")),
    ("164.312(e)(1)", "Transmission security", ("restricted-ssh", "restricted-common-ports",
                                                "vpc-sg-open-only-to-authorized-ports")),
]


def counts_by(findings: QuerySet[Finding], field: str) -> list[dict[str, Any]]:
    """Compliant, non-compliant, excepted and insufficient-data findings and the share compliant, per `field`."""
    violating = Q(status=Compliance.NON_COMPLIANT)
    rows = findings.order_by().values(field).annotate(
        compliant=Count("pk", filter=Q(status=Compliance.COMPLIANT)),
        non_compliant=Count("pk", filter=violating & ~active_exception()),
        excepted=Count("pk", filter=violating & active_exception()),
        insufficient=Count("pk", filter=Q(status=Compliance.INSUFFICIENT_DATA)),
    ).order_by(field)
    out = []
    for row in rows:
        judged = row["compliant"] + row["non_compliant"] + row["excepted"]
        out.append({"key": row[field] or "—", **{k: row[k] for k in ("compliant", "non_compliant", "excepted",
                                                                          "insufficient")},
                    "share": round(100 * (row["compliant"] + row["excepted"]) / judged) if judged else None})
    return out


def summary(findings: QuerySet[Finding]) -> dict[str, Any]:
    return {"by_rule": counts_by(findings, "rule__name"), "by_account": counts_by(findings, "account_id"),
            "by_team": counts_by(findings, "team__name"), "by_type": counts_by(findings, "resource_type"),
            "totals": totals(findings)}


def totals(findings: QuerySet[Finding]) -> dict[str, Any]:
    rows = counts_by(findings.annotate(everything=Value(1)), "everything")
    return rows[0] if rows else {"compliant": 0, "non_compliant": 0, "excepted": 0, "insufficient": 0, "share": None}


def hipaa(findings: QuerySet[Finding]) -> list[dict[str, Any]]:
    by_rule = {row["key"]: row for row in counts_by(findings, "rule__name")}
    out = []
    for safeguard, title, rules in HIPAA:
        rows = [by_rule[name] for name in rules if name in by_rule]
        compliant = sum(r["compliant"] + r["excepted"] for r in rows)
        judged = compliant + sum(r["non_compliant"] for r in rows)
        out.append({"safeguard": safeguard, "title": title, "rules": rules,
                    "share": round(100 * compliant / judged) if judged else None,
                    "non_compliant": sum(r["non_compliant"] for r in rows)})
    return out


def trend(days: int = 30) -> list[dict[str, Any]]:
    """One point per sample time: totals over every rule."""
    since = timezone.now() - timedelta(days=days)
    points: dict[Any, dict[str, int]] = defaultdict(lambda: {"compliant": 0, "non_compliant": 0, "excepted": 0})
    for sample in ComplianceSample.objects.filter(time__gte=since):
        point = points[sample.time]
        point["compliant"] += sample.compliant
        point["non_compliant"] += sample.non_compliant
        point["excepted"] += sample.excepted
    return [{"time": t, **v} for t, v in sorted(points.items())]


def trend_svg_points(points: list[dict[str, Any]], width: int = 1000, height: int = 180) -> dict[str, Any]:
    """Polyline coordinates for the share compliant over time (0–100 %), for a server-rendered SVG chart."""
    if not points:
        return {"line": "", "dots": [], "width": width, "height": height}
    coords = []
    for i, p in enumerate(points):
        judged = p["compliant"] + p["non_compliant"] + p["excepted"]
        share = 100 * (p["compliant"] + p["excepted"]) / judged if judged else 100
        x = 30 + (width - 40) * (i / max(1, len(points) - 1))
        y = 10 + (height - 30) * (1 - share / 100)
        coords.append({"x": round(x, 1), "y": round(y, 1), "share": round(share), "time": p["time"],
                       "non_compliant": p["non_compliant"]})
    return {"line": " ".join(f"{c['x']},{c['y']}" for c in coords), "dots": coords, "width": width,
            "height": height}


EXPORT_FIELDS = ("rule", "status", "excepted", "annotation", "resource_type", "resource_id", "account_id", "region",
                 "team", "since", "first_seen", "last_seen", "resolved", "evaluated")


def export_rows(findings: QuerySet[Finding]) -> list[dict[str, Any]]:
    return [{"rule": f.rule.name, "status": f.status, "excepted": f.excepted, "annotation": f.annotation,
             "resource_type": f.resource_type, "resource_id": f.resource_id, "account_id": f.account_id,
             "region": f.region, "team": f.team.slug if f.team else "",
             **{k: getattr(f, k).isoformat() if getattr(f, k) else "" for k in
                ("since", "first_seen", "last_seen", "resolved", "evaluated")}} for f in findings]


def export_csv(findings: QuerySet[Finding]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(export_rows(findings))
    return out.getvalue()
