from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: /metrics for Prometheus, request ids in logs and tasks, a row for every periodic run.

    models and services (the rows of periodic task runs); selectors (reads for /metrics and the operations page);
    metrics (the Prometheus collector) and access (who may read /metrics); views/ (operations: the operations page,
    metrics: /metrics; routed by urls and metrics_urls); middleware and logs (portal.request_id's id on every
    response and log line);
    task_signals (the request id carried into tasks, a row per periodic run).
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"

    def ready(self) -> None:
        from ops import task_signals

        task_signals.connect()
        from celery import signals

        from ops.logs import celery_handlers_adopt

        def log_format(logger=None, **kwargs) -> None:
            """The worker's and beat's own handlers: request ids on every line, JSON with LOG_FORMAT=json."""
            celery_handlers_adopt(logger)

        signals.after_setup_logger.connect(log_format, weak=False, dispatch_uid="ops-log-format")
        signals.after_setup_task_logger.connect(log_format, weak=False, dispatch_uid="ops-task-log-format")
