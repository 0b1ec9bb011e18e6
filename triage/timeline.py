"""Alerts as entries of a resource's timeline."""

from datetime import datetime

from audit.timeline import Entry
from audit.models import ConfigResource
from triage.models import Alert


def alert_entries(resource: ConfigResource, before: datetime | None, limit: int) -> list[Entry]:
    alerts = Alert.objects.filter(account_id=resource.account_id, resource_id=resource.resource_id).select_related(
        "signature")
    if before is not None:
        alerts = alerts.filter(first_seen__lt=before)
    entries = []
    for alert in alerts.order_by("-first_seen", "-id")[:limit]:
        summary = (f"Alert [{alert.severity}] {alert.signature.title}: {alert.title} — seen {alert.count} time(s), "
                   f"{alert.get_status_display().lower()}")
        entries.append(Entry("alert", alert.first_seen, summary[:600], f"alert-{alert.pk}"))
    return entries
