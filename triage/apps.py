from django.apps import AppConfig


class TriageConfig(AppConfig):
    """Triage: signatures over enriched CloudTrail events and flow-log detections, the alerts they raise, and where
    the alerts go. `models`; `services` (events matched, alerts raised, signatures saved, staged and promoted) over
    the pure `signature_matching` and the shipped `builtin_signatures`; `signature_replay` (the dry run's part);
    `selectors` (every team-scoped read); `flowlog_files` (flow-log files found from the recorder and read) and
    `threat_lists` (with their HTTP fetch) over the Django-free `flowlogs`; `org` (org context synced); `tickets` over
    the Django-free `outputs`; `alarms`; `alert_stats` (the dashboard's figures, a team's report); `timeline`;
    `demo_threat_list`; `tasks`; `forms`; `api/`; `views/` (one module per page group)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "triage"

    def ready(self) -> None:
        from audit import handoffs
        from triage import flowlog_files

        handoffs.register("triage.tasks.match_events", writes_only=False)
        flowlog_files.runs_register()
        from audit.timeline import TIMELINE_SOURCES
        from triage.timeline import alert_entries

        if alert_entries not in TIMELINE_SOURCES:
            TIMELINE_SOURCES.append(alert_entries)
        from portal import seeding
        from triage.builtin_signatures import builtin_seed
        from triage.demo_threat_list import threat_lists_demo_seed

        seeding.register("signatures", builtin_seed, order=40, builtin=True,
                         message="Built-in signatures: {signatures} signature(s) added.")
        seeding.register("threat-lists", threat_lists_demo_seed, order=50, message="Demo threat lists: {lists} added.")
        from remediation import dryrun_signatures
        from triage import signature_replay

        dryrun_signatures.register(dryrun_signatures.SignatureReplay(
            names=signature_replay.signature_names, snapshots=signature_replay.dry_run_snapshots,
            replay=signature_replay.signatures_replay, chart=signature_replay.chart_bars))
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
