"""New events handed on to the apps that act on them, durably.

Ingest writes one `EventHandoff` row per consumer and batch in the same transaction as the events, and sends
the consumer's task (by name, with the row's id) once that commits. The task claims the row, does its work and
marks it SUCCEEDED. A message the broker lost, or a worker stopped mid-work, leaves the row PENDING or RUNNING:
`handoffs_reconcile` sends it again. Consumers are safe to run twice on the same events (a signature records a hit
once, a policy's runs are keyed by trigger, the recorder's items by hash), so "at least once" is exact.

Apps register in their AppConfig.ready(): `handoffs.register("triage.tasks.match_events", writes_only=False)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from audit.models import EventHandoff, RunStatus

log = logging.getLogger(__name__)

PENDING_AFTER = timedelta(minutes=2)  # a message not taken by then was lost
RUNNING_AFTER = timedelta(minutes=5)  # a consumer still RUNNING then has stopped
MAX_ATTEMPTS = 5  # a batch its consumer failed on this often is FAILED (shown), not sent again for ever
KEEP_DONE = timedelta(days=1)


@dataclass(frozen=True)
class Consumer:
    task: str  # a Celery task's name; it takes the handoff's id
    writes_only: bool  # only writes that succeeded and named a resource (what changes configuration)
    order: int  # sent in this order (lowest first); with several workers they may still run side by side


CONSUMERS: dict[str, Consumer] = {}


def register(task: str, *, writes_only: bool, order: int = 0) -> None:
    CONSUMERS[task] = Consumer(task, writes_only, order)


def events_hand_on(*, all_ids: list[str], write_ids: list[str]) -> list[int]:
    """Inside the ingest's transaction: a row per consumer with its events; each sent once the events commit."""
    consumers = sorted(CONSUMERS.values(), key=lambda c: c.order)
    rows = [EventHandoff(consumer=c.task, event_ids=write_ids if c.writes_only else all_ids)
            for c in consumers if (write_ids if c.writes_only else all_ids)]
    if not rows:
        return []
    created = EventHandoff.objects.bulk_create(rows)
    sends = [(row.consumer, row.pk) for row in created]
    transaction.on_commit(lambda: all(_sent(task, pk) for task, pk in sends))  # stops at the first refusal
    return [pk for _, pk in sends]


def _send(task: str, handoff_id: int) -> None:
    from celery import current_app

    import_module(task.rpartition(".")[0])  # the task's module registers it (autodiscovery is lazy)
    current_app.tasks[task].delay(handoff_id)  # .delay, not send_task: in-process (eager) runs take it too


def _sent(task: str, handoff_id: int) -> bool:
    """Sent; or False when the broker is away: the row waits for the reconciler, and ingest goes on."""
    try:
        _send(task, handoff_id)
    except KombuOperationalError as exc:
        log.warning("handoffs: the broker did not take %s for handoff %s (%s); sent again later", task, handoff_id,
                    exc)
        return False
    return True


def handoff_claim(handoff_id: int) -> EventHandoff | None:
    """The row, now RUNNING in this worker; None when another has it or it is done."""
    claimed = EventHandoff.objects.filter(pk=handoff_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1, updated=timezone.now())
    return EventHandoff.objects.get(pk=handoff_id) if claimed else None


def handoff_done(handoff: EventHandoff) -> None:
    EventHandoff.objects.filter(pk=handoff.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.SUCCEEDED, updated=timezone.now())


def handoffs_reconcile() -> int:
    """Rows whose message was lost (PENDING too long) or whose worker stopped (RUNNING too long) are sent again;
    done ones older than a day go. Returns how many were sent again."""
    now = timezone.now()
    EventHandoff.objects.filter(status=RunStatus.SUCCEEDED, updated__lt=now - KEEP_DONE).delete()
    stale = EventHandoff.objects.filter(Q(status=RunStatus.PENDING, updated__lt=now - PENDING_AFTER)
                                        | Q(status=RunStatus.RUNNING, updated__lt=now - RUNNING_AFTER),
                                        consumer__in=list(CONSUMERS))
    count = 0
    for row in stale.order_by("id")[:1000]:
        if row.status == RunStatus.RUNNING and row.attempts >= MAX_ATTEMPTS:
            EventHandoff.objects.filter(pk=row.pk, status=row.status, updated=row.updated).update(
                status=RunStatus.FAILED, updated=now)
            log.error("%s stopped on the same %d events %d times; left FAILED (handoff %s)", row.consumer,
                      len(row.event_ids), row.attempts, row.pk)
            continue
        if EventHandoff.objects.filter(pk=row.pk, status=row.status, updated=row.updated).update(
                status=RunStatus.PENDING, updated=now):
            if not _sent(row.consumer, row.pk):
                break  # the broker is away: the rest wait for the next round
            count += 1
    return count
