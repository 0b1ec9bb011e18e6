"""Reads: each model's rows a person may see (`…_visible_to(user=…)`), the lists' filters, a dry run's report as
its reader may see it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from audit.models import ConfigResource
from portal.models import Account
from portal.roles import User, is_developer, sees_everything
from remediation.models import (
    ActionRun,
    ActionStatus,
    Compliance,
    DryRun,
    Finding,
    Policy,
    RuleException,
)

FINDING_FILTERS = ("rule", "status", "resource_id", "account_id", "resource_type", "team", "excepted")
ACTION_FILTERS = ("status", "policy", "resource_id", "action", "mode")


# --- findings and exceptions ------------------------------------------------------------------------------

def findings_visible_to(*, user: User) -> QuerySet[Finding]:
    findings = Finding.objects.select_related("rule", "team", "excepted_by")
    if sees_everything(user):
        return findings
    if is_developer(user):
        return findings.filter(account_id__in=user.teams.values("accounts__account_id"))
    return findings.none()


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
        findings = findings.filter(active_exception())
    elif get("excepted") == "false":
        findings = findings.exclude(active_exception())
    elif get("excepted"):
        raise ValueError("excepted: give true or false")
    return findings


def active_exception() -> Q:
    """An exception counts only until it expires (the next evaluation then drops it)."""
    return Q(excepted_by__isnull=False, excepted_by__expires__gt=timezone.now())


def exceptions_visible_to(*, user: User) -> QuerySet[RuleException]:
    """Developers see the exceptions that concern their teams: their accounts, their teams, resources recorded in
    their accounts, and tag exceptions (which apply everywhere)."""
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


# --- policies and the actions they took -------------------------------------------------------------------

def policies_with_recent_runs(*, kind: str | None = None) -> QuerySet[Policy]:
    """Every policy with its runs of the last day counted (done, dry, failed or held); `kind` "event" keeps the
    event rules, "rule" the rules' policies."""
    since = timezone.now() - timedelta(days=1)
    policies = Policy.objects.select_related("rule").annotate(
        done=Count("runs", filter=Q(runs__created__gte=since, runs__status=ActionStatus.SUCCEEDED)),
        dry=Count("runs", filter=Q(runs__created__gte=since, runs__status=ActionStatus.DRY_RUN)),
        failed=Count("runs", filter=Q(runs__created__gte=since, runs__status__in=[
            ActionStatus.FAILED, ActionStatus.HELD])))
    if kind == "event":
        policies = policies.exclude(event_pattern=None)
    elif kind == "rule":
        policies = policies.filter(event_pattern=None)
    return policies


def actions_visible_to(*, user: Any):
    runs = ActionRun.objects.select_related("policy", "requested_by")
    if sees_everything(user):
        return runs
    if is_developer(user):
        return runs.filter(account_id__in=user.teams.values("accounts__account_id"))
    return runs.none()


def actions_filter(runs: QuerySet[ActionRun], filters: dict[str, str]) -> QuerySet[ActionRun]:
    """The action list's filters (ACTION_FILTERS, each an exact match; `policy` by name)."""
    if "policy" in filters:
        runs = runs.filter(policy__name=filters["policy"])
    for key in ("status", "resource_id", "action", "mode"):
        if key in filters:
            runs = runs.filter(**{key: filters[key]})
    return runs


# --- dry runs ---------------------------------------------------------------------------------------------

def dry_runs_visible_to(*, user: Any):
    """Everyone signed in sees dry runs; a developer's view of a report is cut to their teams' accounts."""
    return DryRun.objects.select_related("requested_by", "applied_by").prefetch_related("policies")


def dry_run_report_for(dry_run: DryRun, *, user: Any) -> dict[str, Any]:
    """The report as this person may read it: a developer sees the actions and the example alerts on their teams'
    accounts only, and not the portal-wide compliance figures."""
    report = dict(dry_run.report or {})
    if not report or sees_everything(user):
        return report
    mine = set(Account.objects.filter(team__in=user.teams.all()).values_list("account_id", flat=True))
    report["actions"] = [a for a in report.get("actions", []) if a["target"]["account_id"] in mine]
    kept = {(a["policy"], a["action"], a["target"]["resource_id"]) for a in report["actions"]}
    differences = dict(report.get("differences") or {})
    for key in ("same", "only_dry_run"):
        differences[key] = [d for d in differences.get(key, []) if (d["policy"], d["action"], d["resource_id"]) in kept]
    differences["only_active"] = [d for d in differences.get("only_active", []) if ActionRun.objects.filter(
        pk=d["run"], account_id__in=mine).exists()]
    report["differences"] = differences
    report["compliance"] = []
    report["signatures"] = [{**row, "examples": [e for e in row["examples"] if e["account_id"] in mine]}
                            for row in report.get("signatures", [])]
    return report
