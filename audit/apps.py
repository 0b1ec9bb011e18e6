from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self) -> None:
        from audit import handoffs, recorder_runs, services

        # Last: the event rules see a write before the recorder's snapshot of it sets the rules and their fixes off.
        handoffs.register("audit.tasks.recorder_events", writes_only=True, order=10)
        handoffs.runs_register()
        recorder_runs.runs_register()
        services.runs_register()
