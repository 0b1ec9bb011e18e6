"""CloudTrail ingestion in Celery: poll each account's queue, ingest each new file once."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from audit import cloudtrail_delivery, services
from audit.models import LogFile, LogFileStatus
from portal import aws
from portal.models import Account

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=5)
POLL_ROUNDS = 20


@shared_task(name="audit.tasks.cloudtrail_poll", ignore_result=True)
def cloudtrail_poll() -> int:
    """Enqueue each newly delivered file; the message is deleted once the file has its row (at least once)."""
    found = 0
    account_ids = set(Account.objects.filter(cloudtrail_source="S3").values_list("account_id", flat=True))
    if not Account.objects.filter(account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID).exists():
        account_ids.add(settings.AWS_MANAGEMENT_ACCOUNT_ID)
    for account_id in sorted(account_ids):
        try:
            for _ in range(POLL_ROUNDS):  # a backlog drains at up to POLL_ROUNDS × 10 files per poll
                batch = list(cloudtrail_delivery.new_files(account_id=account_id))
                for new in batch:
                    LogFile.objects.get_or_create(bucket=new.bucket, key=new.key, defaults={"account_id": account_id})
                    cloudtrail_ingest_file.delay(account_id, new.bucket, new.key)
                    cloudtrail_delivery.forget_message(account_id=account_id, receipt=new.receipt)
                    found += 1
                if not batch:
                    break
        except aws.AWS_ERRORS as exc:
            log.warning("cloudtrail: cannot read the queue of %s: %s", account_id, aws.error_code(exc))
    return found


@shared_task(name="audit.tasks.cloudtrail_ingest_file", ignore_result=True,
             autoretry_for=aws.AWS_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=5)
def cloudtrail_ingest_file(account_id: str, bucket: str, key: str) -> None:
    log_file = services.logfile_claim(bucket=bucket, key=key)
    if log_file is None:
        return  # done already, or another worker has it
    try:  # what is stored is handed on batch by batch (audit.handoffs), so a broken read loses nothing
        stream = cloudtrail_delivery.open_object(account_id=account_id, bucket=bucket, key=key)
        services.logfile_ingest(log_file=log_file, stream=stream, act_on_writes=True)
    except aws.ClientError as exc:  # AWS refused (the object is gone, access denied): nothing to retry
        services.logfile_quarantine(log_file=log_file, reason=f"cannot read the object: {aws.error_code(exc)}")
    except aws.AWS_ERRORS as exc:  # AWS out of reach, before or during the read: the retry claims it again
        services.logfile_release(log_file=log_file, reason=f"AWS could not be reached ({aws.error_code(exc)}); "
                                                           "ingesting again")
        raise


@shared_task(name="audit.tasks.logfiles_reconcile", ignore_result=True)
def logfiles_reconcile() -> int:
    """Files a dead worker left half done, or whose message was lost, go again; deduplication keeps the result
    exact."""
    stale = LogFile.objects.filter(status__in=[LogFileStatus.INGESTING, LogFileStatus.PENDING],
                                   updated__lt=timezone.now() - STALE_AFTER)
    count = 0
    for log_file in stale:
        # INGESTING: its worker stopped mid-file. PENDING: its message was lost (a broker restarted without
        # persistence) or its retries ran out while AWS was away; sending it again is harmless (the claim).
        reason = "the worker stopped mid-file; ingesting again" if log_file.status == LogFileStatus.INGESTING \
            else log_file.reason or "still waiting to be ingested; sent again"
        if LogFile.objects.filter(pk=log_file.pk, status=log_file.status, updated=log_file.updated).update(
                status=LogFileStatus.PENDING, reason=reason, updated=timezone.now()):
            cloudtrail_ingest_file.delay(log_file.account_id, log_file.bucket, log_file.key)
            count += 1
    return count


@shared_task(name="audit.tasks.events_purge", ignore_result=True)
def events_purge() -> int:
    """Keep CLOUDTRAIL_RETENTION_DAYS of events."""
    return services.events_purge(older_than=timezone.now() - timedelta(days=settings.CLOUDTRAIL_RETENTION_DAYS))


@shared_task(name="audit.tasks.cloudtrail_lookup_poll", ignore_result=True)
def cloudtrail_lookup_poll() -> int:
    """For accounts read through LookupEvents: everything since the newest event stored for them."""
    from audit.cloudtrail.lookup import lookup_records
    from audit.models import CloudTrailEvent

    stored = 0
    now = timezone.now()
    for account in Account.objects.filter(cloudtrail_source="LOOKUP_EVENTS"):
        newest = CloudTrailEvent.objects.filter(account_id=account.account_id).order_by("-event_time").first()
        since = newest.event_time if newest else now - timedelta(hours=1)
        for region in account.allowed_regions:
            try:
                client = aws.client("cloudtrail", account_id=account.account_id, region=region)
                stored += services.records_ingest(lookup_records(client=client, since=since, until=now),
                                                  act_on_writes=True)["stored"]
            except aws.AWS_ERRORS as exc:
                log.warning("cloudtrail: LookupEvents in %s/%s failed: %s", account.account_id, region,
                            aws.error_code(exc))
    return stored


# --- the configuration recorder ---

@shared_task(name="audit.tasks.recorder_run", ignore_result=True, bind=True, max_retries=3)
def recorder_run(self, run_id: int) -> None:
    from audit import recorder_runs

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
    """A full scan of every account (each its own run row); runs a dead worker left are handed out again."""
    from audit import recorder_runs

    started = 0
    for run_id in recorder_runs.stale_runs_release():
        recorder_run.delay(run_id)
    for account in Account.objects.all():
        run = recorder_runs.scan_request(account=account)
        if run is not None:
            recorder_run.delay(run.pk)
            started += 1
    return started


@shared_task(name="audit.tasks.recorder_events", ignore_result=True)
def recorder_events(handoff_id: int) -> int:
    """New writes handed on by ingest: a recorder run per account snapshots what they touched."""
    from audit import handoffs, recorder_runs

    handoff = handoffs.handoff_claim(handoff_id)
    if handoff is None:
        return 0
    runs = recorder_runs.events_request(event_ids=list(handoff.event_ids))
    handoffs.handoff_done(handoff)
    for run in runs:
        recorder_run.delay(run.pk)
    return len(runs)


@shared_task(name="audit.tasks.handoffs_reconcile", ignore_result=True)
def handoffs_reconcile() -> int:
    """New events whose hand-on message was lost, or whose consumer stopped, are sent again."""
    from audit import handoffs

    return handoffs.handoffs_reconcile()
