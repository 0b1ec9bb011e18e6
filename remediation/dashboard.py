"""Reads for the compliance dashboard: counts by rule, account, team and type, the trend, and HIPAA safeguards."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Value
from django.utils import timezone

from portal.roles import User, is_developer, sees_everything
from remediation.models import Compliance, ComplianceSample, Finding, Rule, RuleException

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
FILTERS = ("rule", "status", "resource_id", "account_id", "resource_type", "team", "excepted")


def findings_visible_to(*, user: User) -> QuerySet[Finding]:
    findings = Finding.objects.select_related("rule", "team", "excepted_by")
    if sees_everything(user):
        return findings
    if is_developer(user):
        return findings.filter(account_id__in=user.teams.values("accounts__account_id"))
    return findings.none()


def exceptions_visible_to(*, user: User) -> QuerySet[RuleException]:
    """Developers see the exceptions that concern their teams: their accounts, their teams, resources recorded in
    their accounts, and tag exceptions (which apply everywhere)."""
    from audit.models import ConfigResource

    exceptions = RuleException.objects.select_related("rule", "created_by")
    if sees_everything(user):
        return exceptions
    if not is_developer(user):
        return exceptions.none()
    accounts = user.teams.values("accounts__account_id")
    S = RuleException.Scope
    return exceptions.filter(
        Q(scope=S.TAG) | Q(scope=S.ACCOUNT, value__in=accounts) | Q(scope=S.TEAM, value__in=user.teams.values("slug"))
        | Q(scope=S.RESOURCE, value__in=ConfigResource.objects.filter(account_id__in=accounts).values("resource_id")))


def findings_filter(findings: QuerySet[Finding], params) -> QuerySet[Finding]:
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    if get("rule"):
        findings = findings.filter(rule__name=get("rule"))
    if get("status"):
        if get("status") not in Compliance.values:
            raise ValueError(f"status: give one of {', '.join(Compliance.values)}")
        findings = findings.filter(status=get("status"))
    for name in ("resource_id", "account_id", "resource_type"):
        if get(name):
            findings = findings.filter(**{name: get(name)})
    if get("team"):
        findings = findings.filter(team__slug=get("team"))
    if get("excepted") == "true":
        findings = findings.filter(_active_exception())
    elif get("excepted") == "false":
        findings = findings.exclude(_active_exception())
    elif get("excepted"):
        raise ValueError("excepted: give true or false")
    return findings


def _active_exception() -> Q:
    """An exception counts only until it expires (the next evaluation then drops it)."""
    return Q(excepted_by__isnull=False, excepted_by__expires__gt=timezone.now())


def _counts(findings: QuerySet[Finding], field: str) -> list[dict[str, Any]]:
    violating = Q(status=Compliance.NON_COMPLIANT)
    rows = findings.order_by().values(field).annotate(
        compliant=Count("pk", filter=Q(status=Compliance.COMPLIANT)),
        non_compliant=Count("pk", filter=violating & ~_active_exception()),
        excepted=Count("pk", filter=violating & _active_exception()),
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
    return {"by_rule": _counts(findings, "rule__name"), "by_account": _counts(findings, "account_id"),
            "by_team": _counts(findings, "team__name"), "by_type": _counts(findings, "resource_type"),
            "totals": totals(findings)}


def totals(findings: QuerySet[Finding]) -> dict[str, Any]:
    rows = _counts(findings.annotate(everything=Value(1)), "everything")
    return rows[0] if rows else {"compliant": 0, "non_compliant": 0, "excepted": 0, "insufficient": 0, "share": None}


def hipaa(findings: QuerySet[Finding]) -> list[dict[str, Any]]:
    by_rule = {row["key"]: row for row in _counts(findings, "rule__name")}
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


def sample_record() -> int:
    """Counts per rule now, for the trend."""
    now = timezone.now()
    rows = _counts(Finding.objects.all(), "rule__name")
    rules = dict(Rule.objects.values_list("name", "pk"))
    ComplianceSample.objects.bulk_create([
        ComplianceSample(time=now, rule_id=rules[r["key"]], compliant=r["compliant"],
                         non_compliant=r["non_compliant"], excepted=r["excepted"]) for r in rows if r["key"] in rules])
    return len(rows)


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
