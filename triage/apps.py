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
        from portal import seeding
        from triage.builtin_signatures import builtin_seed
        from triage.demo_threat_list import threat_lists_demo_seed

        seeding.register("signatures", builtin_seed, order=40,
                         message="Demo signatures: {signatures} built-in signature(s) added.")
        seeding.register("threat-lists", threat_lists_demo_seed, order=50, message="Demo threat lists: {lists} added.")
        from remediation import dryrun_signatures
        from triage import signature_replay

        dryrun_signatures.register(dryrun_signatures.SignatureReplay(
            names=signature_replay.signature_names, snapshots=signature_replay.dry_run_snapshots,
            replay=signature_replay.signatures_replay, chart=signature_replay.chart_bars))
