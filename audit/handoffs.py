"""New events handed on to the apps that act on them, durably.

Ingest writes one `EventHandoff` row per consumer and batch in the same transaction as the events, and sends
the consumer's task (by name, with the row's id) once that commits. The task claims the row, does its work and
marks it SUCCEEDED. A message the broker lost, or a worker stopped mid-work, leaves the row PENDING or RUNNING:
portal's reconciler (portal.runs) sends it again. Consumers are safe to run twice on the same events (a
signature records a hit once, a policy's runs are keyed by trigger, the recorder's items by hash), so "at least
once" is exact.

Apps register in their AppConfig.ready(): `handoffs.register("triage.tasks.match_events", writes_only=False)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from audit.models import EventHandoff, RunStatus
from portal import queue, runs

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
    queue.enqueue_in_order(sends)  # stops at the first refusal: the broker is away, the rows wait
    return [pk for _, pk in sends]


def handoff_claim(handoff_id: int) -> EventHandoff | None:
    """The row, now RUNNING in this worker; None when another has it or it is done."""
    return EventHandoff.objects.get(pk=handoff_id) if EventHandoff.run_claim(handoff_id) else None


def handoff_done(handoff: EventHandoff) -> None:
    EventHandoff.run_finish(handoff.pk, status=RunStatus.SUCCEEDED)


def _give_up(row: EventHandoff, why: str) -> bool:
    return EventHandoff.run_give_up(row.pk, error=f"{row.consumer} stopped on the same {len(row.event_ids)} events "
                                                  f"{row.attempts} times; left FAILED")


def runs_register() -> None:
    """Rows whose message was lost (PENDING too long) or whose worker stopped (RUNNING too long) are sent again by
    portal's reconciler, to a consumer still registered; done ones older than a day go."""
    runs.register(EventHandoff, task=lambda row: row.consumer, stale_after=PENDING_AFTER,
                  running_after=RUNNING_AFTER, max_attempts=MAX_ATTEMPTS, keep_done=KEEP_DONE, give_up=_give_up,
                  stuck=lambda stale, now: stale.filter(consumer__in=list(CONSUMERS)))
