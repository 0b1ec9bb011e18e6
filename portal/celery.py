"""The Celery app. Tasks take ids, fetch the row again and are safe to run twice."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("guardrail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()



@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _log_format(logger=None, **kwargs) -> None:
    """The worker's and beat's own handlers: request ids on every line, JSON with LOG_FORMAT=json."""
    from ops.logs import celery_handlers_adopt

    celery_handlers_adopt(logger)


@signals.beat_init.connect
def _first_recorder_scan(sender=None, **kwargs) -> None:
    """When beat starts, the inventory is filled within seconds rather than at the first scheduled scan."""
    app.send_task("audit.tasks.recorder_scan_all", countdown=10)
    app.send_task("remediation.tasks.evaluate_periodic", countdown=45)
