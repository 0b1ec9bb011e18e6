"""Triage in Celery: signatures matched on newly stored events."""

from celery import shared_task


@shared_task(name="triage.tasks.match_events", ignore_result=True)
def match_events(handoff_id: int) -> int:
    """The signatures over new events handed on by ingest; and the org context read again after the calls that
    change it."""
    from audit import handoffs
    from audit.models import CloudTrailEvent
    from triage import org, services

    handoff = handoffs.handoff_claim(handoff_id)
    if handoff is None:
        return 0
    event_ids = list(handoff.event_ids)
    raised = len(services.events_match(event_ids))
    changing = CloudTrailEvent.objects.filter(event_id__in=event_ids, error_code="", event_name__in=sorted(
        org.ORG_EVENTS | org.IAM_EVENTS | org.TAG_EVENTS)).values_list("event_name", "account_id")
    if changing:
        org.events_sync({name for name, _ in changing}, {account for _, account in changing})
    handoffs.handoff_done(handoff)
    return raised


@shared_task(name="triage.tasks.org_sync_all", ignore_result=True)
def org_sync_all() -> list[str]:
    from triage import org

    return [org.organizations_sync().status, org.iam_sync().status]


@shared_task(name="triage.tasks.ticket_sync", ignore_result=True, bind=True, max_retries=5)
def ticket_sync_task(self, alert_id: int, event: str) -> int:
    """The alert's tickets in line with it; a 429, 5xx or timeout is tried again later (backing off)."""
    from triage import tickets
    from triage.outputs.base import OutputError

    try:
        return len(tickets.ticket_sync(alert_id=alert_id, event=event))
    except OutputError as exc:
        if self.request.is_eager:
            return 0  # in-process (tests, benches): the row keeps the error, nothing waits
        raise self.retry(exc=exc, countdown=exc.retry_after or 30 * 2 ** self.request.retries) from None


@shared_task(name="triage.tasks.webhook", ignore_result=True, bind=True, max_retries=3)
def webhook_task(self, alert_id: int, why: str) -> bool:
    from triage import tickets
    from triage.outputs.base import OutputError

    try:
        return tickets.webhook_send(alert_id=alert_id, why=why)
    except OutputError as exc:
        if not exc.retryable or self.request.is_eager:
            return False
        raise self.retry(exc=exc, countdown=exc.retry_after or 30) from None


@shared_task(name="triage.tasks.alarms_evaluate", ignore_result=True)
def alarms_evaluate() -> int:
    from triage import alarms

    return alarms.alarms_evaluate()


@shared_task(name="triage.tasks.flowlogs_poll", ignore_result=True)
def flowlogs_poll() -> int:
    """New flow-log files each read by a task of their own; files a dead worker left go again; URL threat lists
    fetched when due."""
    from triage import flowlog_files, threat_lists

    for threat_list_id in threat_lists.threat_lists_due():
        threat_list_fetch.delay(threat_list_id)
    ids = flowlog_files.files_stale() + flowlog_files.files_discover()
    for file_id in ids:
        flowlog_ingest_file.delay(file_id)
    return len(ids)


@shared_task(name="triage.tasks.flowlog_ingest_file", ignore_result=True, bind=True, max_retries=5)
def flowlog_ingest_file(self, file_id: int) -> str:
    """One file, once: claimed by a conditional update, so a second delivery of the task does nothing."""
    from portal import aws
    from triage import flowlog_files

    try:
        return flowlog_files.file_read(file_id)
    except aws.AWS_ERRORS as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=10 * 2 ** self.request.retries) from None


@shared_task(name="triage.tasks.threat_list_fetch", ignore_result=True)
def threat_list_fetch(threat_list_id: int) -> str:
    from triage import threat_lists

    return threat_lists.threat_list_fetch(threat_list_id).fetch_error
