"""Recorder runs as rows: requested, claimed by one worker (a conditional update), carried out, finished."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import recorder
from audit.models import RecorderRun, RunStatus
from portal import aws
from portal.models import Account

STALE_AFTER = timedelta(minutes=30)
EVENTS_PER_RUN = 500


def scan_request(*, account: Account, user: Any = None) -> RecorderRun | None:
    """A new full-scan run, or None when one for this account is already waiting or running."""
    busy = RecorderRun.objects.filter(account=account, kind=RecorderRun.Kind.SCAN,
                                      status__in=[RunStatus.PENDING, RunStatus.RUNNING],
                                      created__gte=timezone.now() - STALE_AFTER)
    if busy.exists():
        return None
    return RecorderRun.objects.create(account=account, kind=RecorderRun.Kind.SCAN, requested_by=user)


def events_request(*, event_ids: list[str]) -> list[RecorderRun]:
    """Runs that snapshot what these (newly stored) events touched, one per account and batch."""
    runs = []
    targets = recorder.events_targets(event_ids)
    if not targets:
        return runs
    from audit.models import CloudTrailEvent

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


def run_claim(run_id: int) -> RecorderRun | None:
    """The run, now RUNNING in this worker; None when another worker has it or it has finished."""
    claimed = RecorderRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started=timezone.now())
    return RecorderRun.objects.select_related("account").get(pk=run_id) if claimed else None


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
    with transaction.atomic():
        RecorderRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=status, stats=stats, error=error, finished=timezone.now())


def run_release(run: RecorderRun) -> None:
    """Back to PENDING, to be claimed again (what it wrote before stays: items are by hash)."""
    RecorderRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.PENDING)


def stale_runs_release() -> list[int]:
    """Runs a dead worker left RUNNING go back to PENDING (running one twice is harmless: items are by hash); with
    the runs still PENDING long after they were asked for (their message was lost), they are handed out again."""
    stale = RecorderRun.objects.filter(status=RunStatus.RUNNING, started__lt=timezone.now() - STALE_AFTER)
    released = []
    for run_id in stale.values_list("pk", flat=True):
        if RecorderRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(status=RunStatus.PENDING):
            released.append(run_id)
    waiting = RecorderRun.objects.filter(status=RunStatus.PENDING, created__lt=timezone.now() - STALE_AFTER
                                         ).exclude(pk__in=released)
    return released + list(waiting.values_list("pk", flat=True))
