"""The Celery app. Tasks take ids, fetch the row again and are safe to run twice."""

import os
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("guardrail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# When each message was published (Unix seconds), in its headers: how long the oldest one in a queue has waited
# (ops.broker, /ops/ and /metrics). Stamped here, where every process that publishes (web, beat, workers) has it.
PUBLISHED_HEADER = "published_at"


@signals.before_task_publish.connect(weak=False, dispatch_uid="portal-published-at")
def _stamp_published(headers: dict | None = None, **kwargs) -> None:
    if headers is not None:
        headers[PUBLISHED_HEADER] = time.time()  # a retry is a new message: stamped anew


# ops gives the worker's and beat's log handlers the request ids (from its AppConfig.ready(), before they exist).


@signals.beat_init.connect
def _first_recorder_scan(sender=None, **kwargs) -> None:
    """When beat starts, the inventory is filled within seconds rather than at the first scheduled scan."""
    app.send_task("audit.tasks.recorder_scan_all", countdown=10)
    app.send_task("remediation.tasks.evaluate_periodic", countdown=45)
