"""Compliance changes as entries of a resource's timeline."""

from datetime import datetime

from audit.inventory import Entry
from audit.models import ConfigResource
from remediation.models import FindingChange


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
