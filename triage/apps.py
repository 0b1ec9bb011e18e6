from django.apps import AppConfig


class TriageConfig(AppConfig):
    """Triage: org context, signatures over enriched events, alerts, outputs and tickets, flow-log detection."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "triage"

    def ready(self) -> None:
        from audit.signals import events_ingested
        from triage import receivers

        events_ingested.connect(receivers.match_after_commit, dispatch_uid="triage-events")
        from audit.inventory import TIMELINE_SOURCES
        from triage.timeline import alert_entries

        if alert_entries not in TIMELINE_SOURCES:
            TIMELINE_SOURCES.append(alert_entries)
