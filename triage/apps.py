from django.apps import AppConfig


class TriageConfig(AppConfig):
    """Triage: org context, signatures over enriched events, alerts, outputs and tickets, flow-log detection."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "triage"

    def ready(self) -> None:
        from audit import handoffs
        from triage import flows

        handoffs.register("triage.tasks.match_events", writes_only=False)
        flows.runs_register()
        from audit.inventory import TIMELINE_SOURCES
        from triage.timeline import alert_entries

        if alert_entries not in TIMELINE_SOURCES:
            TIMELINE_SOURCES.append(alert_entries)
