from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: /metrics for Prometheus, request ids in logs and tasks, a row for every periodic run."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"

    def ready(self) -> None:
        from ops import task_signals

        task_signals.connect()
