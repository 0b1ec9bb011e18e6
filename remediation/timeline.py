"""Compliance changes as entries of a resource's timeline."""

from datetime import datetime

from audit.config.diff import changes
from audit.models import ConfigResource
from audit.timeline import Entry
from remediation.models import ActionRun, FindingChange


def compliance_entries(resource: ConfigResource, before: datetime | None, limit: int) -> list[Entry]:
    changes = FindingChange.objects.filter(
        finding__account_id=resource.account_id, finding__resource_type=resource.resource_type,
        finding__resource_id=resource.resource_id).select_related("finding__rule")
    if before is not None:
        changes = changes.filter(time__lt=before)
    changes = changes.order_by("-time", "-id")[:limit]
    entries = []
    for change in changes:
        verdict = change.after.replace("_", " ").lower()
        summary = f"{change.finding.rule.name}: {verdict}"
        if change.annotation:
            summary += f" — {change.annotation}"
        entries.append(Entry("compliance", change.time, summary, f"compliance-{change.pk}",
                             diff=[{"path": change.finding.rule.name, "change_type": "MODIFIED",
                                    "before": change.before or None, "after": change.after}]))
    return entries


def remediation_entries(resource: ConfigResource, before: datetime | None, limit: int) -> list[Entry]:
    runs = ActionRun.objects.filter(account_id=resource.account_id, resource_type=resource.resource_type,
                                    resource_id=resource.resource_id).exclude(action="notify").select_related("policy")
    if before is not None:
        runs = runs.filter(created__lt=before)
    entries = []
    for run in runs.order_by("-created", "-id")[:limit]:
        outcome, plan = run.outcome or {}, run.plan or {}
        policy = f"{run.policy.name} v{run.policy_version}" if run.policy else "by hand"
        summary = (f"{run.action} ({policy}, {run.get_mode_display()}): {run.get_status_display()} — "
                   f"{plan.get('expected_change') or outcome.get('message', '')} · why: {run.reason}")
        diff = changes(outcome.get("before"), outcome.get("after")) if outcome.get("before") else []
        entries.append(Entry("remediation", run.finished or run.created, summary[:600], f"remediation-{run.pk}",
                             diff=diff))
    return entries
