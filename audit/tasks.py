"""Audit's work in Celery: thin wrappers that take ids and call one service each."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from audit import recorder_runs, services
from portal import aws


@shared_task(name="audit.tasks.cloudtrail_poll", ignore_result=True)
def cloudtrail_poll() -> int:
    """Enqueue each newly delivered file; a message is deleted once what it says is kept (at least once)."""
    return services.logfiles_poll()


@shared_task(name="audit.tasks.cloudtrail_ingest_file", ignore_result=True,
             autoretry_for=aws.AWS_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=5)
def cloudtrail_ingest_file(account_id: str, bucket: str, key: str) -> None:
    services.logfile_read(account_id=account_id, bucket=bucket, key=key)


@shared_task(name="audit.tasks.events_purge", ignore_result=True)
def events_purge() -> int:
    """Keep CLOUDTRAIL_RETENTION_DAYS of events."""
    return services.events_purge(older_than=timezone.now() - timedelta(days=settings.CLOUDTRAIL_RETENTION_DAYS))


@shared_task(name="audit.tasks.cloudtrail_lookup_poll", ignore_result=True)
def cloudtrail_lookup_poll() -> int:
    """For accounts read through LookupEvents: every region they use, from a while before the last read (stored once)."""
    return services.lookup_poll()


# --- the configuration recorder ---

@shared_task(name="audit.tasks.recorder_run", ignore_result=True, bind=True, max_retries=3)
def recorder_run(self, run_id: int) -> None:
    """One run (a full scan; an events run sent before the two had tasks of their own works too)."""
    _run(self, run_id)


@shared_task(name="audit.tasks.recorder_events_run", ignore_result=True, bind=True, max_retries=3)
def recorder_events_run(self, run_id: int) -> None:
    """A run snapshotting what new writes touched: the same work, in the fast worker's queue (portal.routing)."""
    _run(self, run_id)


def _run(self, run_id: int) -> None:
    run = recorder_runs.run_claim(run_id)
    if run is None:
        return
    try:
        recorder_runs.run_execute(run)
    except IntegrityError as exc:  # another run recorded the same resource at that moment: look again shortly
        recorder_runs.run_release(run)
        raise self.retry(exc=exc, countdown=2 + 3 * self.request.retries) from exc


@shared_task(name="audit.tasks.recorder_scan_all", ignore_result=True)
def recorder_scan_all() -> int:
    """A full scan of every account (each its own run row); lost or stopped runs are portal.runs' to send again."""
    return len(recorder_runs.scans_request())


@shared_task(name="audit.tasks.recorder_events", ignore_result=True)
def recorder_events(handoff_id: int) -> int:
    """New writes handed on by ingest: a recorder run per account snapshots what they touched."""
    return recorder_runs.events_handoff_take(handoff_id)
