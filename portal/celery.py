"""The Celery app. Tasks take ids, fetch the row again and are safe to run twice."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("guardrail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

