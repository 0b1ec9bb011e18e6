from django.apps import AppConfig


class TriageConfig(AppConfig):
    """Triage: org context, signatures over enriched events, alerts, outputs and tickets, flow-log detection."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "triage"

    def ready(self) -> None:
        from audit import handoffs

        handoffs.register("triage.tasks.match_events", writes_only=False)
        from audit.inventory import TIMELINE_SOURCES
        from triage.timeline import alert_entries

        if alert_entries not in TIMELINE_SOURCES:
            TIMELINE_SOURCES.append(alert_entries)
        self._history_register()

    @staticmethod
    def _history_register() -> None:
        from django.urls import reverse

        from portal.changelog.registry import changelog_register
        from triage import selectors
        from triage.models import Alarm, Alert, Signature, ThreatList

        changelog_register(Signature, visible=lambda user: Signature.objects.all())
        changelog_register(Alert, visible=lambda user: selectors.alerts_visible_to(user=user))
        changelog_register(Alarm, visible=lambda user: selectors.alarms_visible_to(user=user),
                           url=lambda a: reverse("triage:alarm-list"))
        changelog_register(ThreatList, visible=lambda user: ThreatList.objects.all())
