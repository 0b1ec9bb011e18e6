from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from security import services


@shared_task(name="security.tasks.audit_log_purge", ignore_result=True)
def audit_log_purge() -> int:
    """Keep AUDIT_LOG_RETENTION_DAYS of the audit log."""
    return services.audit_log_purge(older_than=timezone.now() - timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS))
