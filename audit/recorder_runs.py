"""Recorder runs as rows: requested, claimed by one worker (a conditional update), carried out, finished."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import handoffs, recorder
from audit.models import CloudTrailEvent, RecorderRun, RunStatus
from portal import aws, queue, runs
from portal.models import Account

STALE_AFTER = timedelta(minutes=30)
EVENTS_PER_RUN = 500
MAX_ATTEMPTS = 5  # a worker stopping on it this often (killed, out of memory): left FAILED, shown
RUN_TASK = "audit.tasks.recorder_run"  # a full scan: the bulk worker's recorder queue (portal.routing)
EVENTS_RUN_TASK = "audit.tasks.recorder_events_run"  # what new writes touched: on a fix's path, the fast worker's


def run_task(run: RecorderRun) -> str:
    """The task that carries out this run: the same work, queued by kind so no scan backlog delays a fix."""
    return RUN_TASK if run.kind == RecorderRun.Kind.SCAN else EVENTS_RUN_TASK


def scan_request(*, account: Account, user: Any = None) -> RecorderRun | None:
    """A new full-scan run, sent once the transaction commits; None when one for this account is already waiting
    or running."""
    busy = RecorderRun.objects.filter(account=account, kind=RecorderRun.Kind.SCAN,
                                      status__in=[RunStatus.PENDING, RunStatus.RUNNING],
                                      created__gte=timezone.now() - STALE_AFTER)
    if busy.exists():
        return None
    run = RecorderRun.objects.create(account=account, kind=RecorderRun.Kind.SCAN, requested_by=user)
    queue.enqueue(RUN_TASK, run.pk)
    return run


def scans_request() -> list[RecorderRun]:
    """A full scan of every account (each its own run) not being scanned already."""
    return [run for account in Account.objects.all() if (run := scan_request(account=account)) is not None]


def events_request(*, event_ids: list[str]) -> list[RecorderRun]:
    """Runs that snapshot what these (newly stored) events touched, one per account and batch."""
    runs = []
    targets = recorder.events_targets(event_ids)
    if not targets:
        return runs
    accounts = {a.account_id: a for a in Account.objects.filter(account_id__in=list(targets))}
    by_account: dict[str, list[str]] = {}
    for account_id, event_id in CloudTrailEvent.objects.filter(
            event_id__in=event_ids, account_id__in=list(accounts)).values_list("account_id", "event_id"):
        by_account.setdefault(account_id, []).append(event_id)
    for account_id, ids in sorted(by_account.items()):
        for start in range(0, len(ids), EVENTS_PER_RUN):
            runs.append(RecorderRun.objects.create(account=accounts[account_id], kind=RecorderRun.Kind.EVENTS,
                                                   event_ids=ids[start:start + EVENTS_PER_RUN]))
    return runs


def events_handoff_take(handoff_id: int) -> int:
    """New writes handed on by ingest (audit.handoffs): a run per account and batch, sent once the hand-on is
    marked done (a worker's step: outside any transaction, sent at once)."""
    handoff = handoffs.handoff_claim(handoff_id)
    if handoff is None:
        return 0
    with transaction.atomic():
        runs = events_request(event_ids=list(handoff.event_ids))
        handoffs.handoff_done(handoff)
    for run in runs:
        queue.send(EVENTS_RUN_TASK, run.pk)
    return len(runs)


def run_claim(run_id: int) -> RecorderRun | None:
    """The run, now RUNNING in this worker; None when another worker has it or it has finished."""
    return RecorderRun.objects.select_related("account").get(pk=run_id) if RecorderRun.run_claim(run_id) else None


def run_execute(run: RecorderRun) -> RecorderRun:
    try:
        if run.kind == RecorderRun.Kind.SCAN:
            stats = recorder.account_scan(account=run.account)
        else:
            stats = recorder.events_record(account=run.account, event_ids=list(run.event_ids))
    except aws.AWS_ERRORS as exc:
        _finish(run, RunStatus.FAILED, {}, f"AWS refused: {aws.error_code(exc)}: {exc}"[:2000])
    else:
        _finish(run, RunStatus.SUCCEEDED, stats, "")
    run.refresh_from_db()
    return run


def _finish(run: RecorderRun, status: str, stats: dict, error: str) -> None:
    RecorderRun.run_finish(run.pk, status=status, error=error, stats=stats, finished=timezone.now())


def run_release(run: RecorderRun) -> None:
    """Back to PENDING, to be claimed again (what it wrote before stays: items are by hash)."""
    RecorderRun.run_release(run.pk)


def runs_register() -> None:
    """Runs a dead worker left RUNNING go back to PENDING (running one twice is harmless: items are by hash); runs
    still PENDING long after they were asked for (their message was lost) are handed out again."""
    runs.register(RecorderRun, task=run_task, stale_after=STALE_AFTER, max_attempts=MAX_ATTEMPTS)
