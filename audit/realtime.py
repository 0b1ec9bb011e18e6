"""The real-time path: EventBridge's copy of each CloudTrail event, stored the moment it arrives.

AWS puts every management API call on the account's default event bus as an "AWS API Call via CloudTrail" event
within seconds; the account kit forwards them to the management account's bus and on to the queue
`guardrail-events`. `manage.py events_consume` (the `events` process of the Procfile and docker-compose.yml) reads
that queue continuously (long polls, batches of 10) and stores each event through the log files' own code
(`services.records_ingest`): deduplicated by eventID, handed on to the event rules, the signatures, the recorder and
remediation at once. The log file's copy, about five minutes later, only completes the stored record
(`services._complete`); if the file came first, EventBridge's copy changes nothing. A message is deleted from the
queue only once its event is stored, or kept as an `EventMessage` with the reason when it cannot be (a poison
message never blocks the queue). The process says it is alive after every poll (the `events-consumer` heartbeat,
shown on the operations page).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import Error as DatabaseError  # InterfaceError (a connection gone) too
from django.db import close_old_connections, transaction

from audit import events_delivery, services
from audit.models import EventMessage
from portal import aws
from portal.services import heartbeat_record

log = logging.getLogger(__name__)

HEARTBEAT = "events-consumer"
DETAIL_TYPES = ("AWS API Call via CloudTrail", "AWS Console Signin via CloudTrail", "AWS Console Action via CloudTrail",
                "AWS Service Event via CloudTrail")
MAX_BACKOFF = 60.0
KEPT_BODY = 256 * 1024  # EventBridge's largest event
# Once a poll brings something, what else arrives within this long (up to GATHER_MAX messages) is stored with it: one
# hand-on per consumer for the lot. At 20 events a second, taken one or two a poll, the hand-ons were more tasks than
# the fast worker runs and every queue fell behind (issue 19 point 6, README "Benchmarks"); an event waits this long
# at most.
GATHER_SECONDS = 0.25
GATHER_MAX = 10


@dataclass(frozen=True)
class Outcome:
    stored: bool = False  # new: stored and handed on
    duplicate: bool = False  # stored already (from a log file, or an earlier delivery of this message)
    quarantined: str = ""  # why the message was kept aside instead


def _event_problem(event: Any) -> str:
    """Why `event` is not an EventBridge event carrying a CloudTrail record, or ""."""
    if not isinstance(event, dict):
        return f"the message is not an EventBridge event (a JSON {type(event).__name__})"
    if event.get("detail-type") not in DETAIL_TYPES:
        return f"detail-type {event.get('detail-type')!r} is not a CloudTrail event's"
    if not isinstance(event.get("detail"), dict):
        return "the event has no detail object (the CloudTrail record)"
    return ""


def _record(event: dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail record of an EventBridge event. Where the detail leaves out the account and region the call
    was made in (the EventBridge schema of "AWS API Call via CloudTrail" has no recipientAccountId), the event's
    own `account` and `region` say them: the bus that received it is the account's."""
    record = dict(event["detail"])
    if not record.get("recipientAccountId") and isinstance(event.get("account"), str):
        record["recipientAccountId"] = event["account"]
    if not record.get("awsRegion") and isinstance(event.get("region"), str):
        record["awsRegion"] = event["region"]
    return record


def message_quarantine(*, message_id: str, body: str, reason: str) -> Outcome:
    EventMessage.objects.create(message_id=message_id[:100], body=body[:KEPT_BODY], reason=reason[:2000])
    log.warning("events: message %s kept aside: %s", message_id or "?", reason)
    return Outcome(quarantined=reason)


def message_store(*, message_id: str, body: str) -> Outcome:
    """One message from the queue: its CloudTrail record stored and handed on, once (by eventID), or the message
    kept aside with the reason. A database error is raised: the message stays on the queue and comes again."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        return message_quarantine(message_id=message_id, body=body, reason=f"not JSON: {exc}")
    problem = _event_problem(event)
    if problem:
        return message_quarantine(message_id=message_id, body=body, reason=problem)
    counts = services.records_ingest([_record(event)], act_on_writes=True, count_portal_reads=False,
                                     via=services.EVENTBRIDGE)
    if counts["bad"]:
        return message_quarantine(message_id=message_id, body=body,
                                  reason=f"the CloudTrail record cannot be read: {counts['bad_reasons'][0]}")
    return Outcome(stored=counts["stored"] > 0, duplicate=counts["duplicates"] > 0)


def _count(totals: dict[str, int], outcome: Outcome) -> None:
    kind = ("stored" if outcome.stored else "duplicates" if outcome.duplicate
            else "quarantined" if outcome.quarantined else "")
    if kind:
        totals[kind] += 1


class _OneByOne(Exception):
    """A record of the batch cannot be read: the batch is rolled back and stored a message at a time."""


def messages_store(messages: list[Any]) -> dict[str, int]:
    """One poll's messages (`.message_id`, `.body`), stored together: the records of all that can be read go in
    through one `records_ingest`, so their hand-ons are one task per consumer for the batch, not per event (at 20
    events a second, per-event hand-ons made more tasks than the fast worker runs: issue 19 point 6, README
    "Benchmarks"). A message that is not an EventBridge event is kept aside alone; a batch holding a record the
    ingest cannot read is rolled back and stored message by message (`message_store`), so that only that message is
    kept aside. Returns how many were stored, duplicates and kept aside; a database error is raised (nothing of the
    batch is then stored, and every message comes again)."""
    totals = {"stored": 0, "duplicates": 0, "quarantined": 0}
    readable: list[tuple[Any, dict[str, Any]]] = []
    for message in messages:
        try:
            event = json.loads(message.body)
        except ValueError as exc:
            message_quarantine(message_id=message.message_id, body=message.body, reason=f"not JSON: {exc}")
            totals["quarantined"] += 1
            continue
        problem = _event_problem(event)
        if problem:
            message_quarantine(message_id=message.message_id, body=message.body, reason=problem)
            totals["quarantined"] += 1
        else:
            readable.append((message, event))
    if not readable:
        return totals
    try:
        with transaction.atomic():  # the hand-ons are sent once this commits
            counts = services.records_ingest([_record(event) for _, event in readable], act_on_writes=True,
                                             count_portal_reads=False, via=services.EVENTBRIDGE)
            if counts["bad"]:
                raise _OneByOne
    except _OneByOne:
        for message, _ in readable:
            outcome = message_store(message_id=message.message_id, body=message.body)
            _count(totals, outcome)
        return totals
    totals["stored"] += counts["stored"]
    totals["duplicates"] += counts["duplicates"]
    return totals


class Consumer:
    """Reads the queue until `stop()`: each message stored (or kept aside), then deleted; AWS or the database out
    of reach is waited out (1 s, doubling up to a minute) and the connection made again."""

    def __init__(self, queue: events_delivery.EventsQueue | None = None, *,
                 wait_seconds: int = events_delivery.WAIT_SECONDS, sleep: Callable[[float], Any] | None = None):
        self.queue = queue or events_delivery.EventsQueue()
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._received: deque[float] = deque()
        self.polling = False  # inside a long poll, nothing taken yet
        self.totals = {"received": 0, "stored": 0, "duplicates": 0, "quarantined": 0}

    def stop(self) -> None:
        """Finish the poll under way and its messages, then return from `run()`."""
        self._stop.set()

    def signalled(self, *_: Any) -> None:
        """SIGTERM or Ctrl-C: stop. While a long poll waits (nothing taken yet) it ends at once; whatever SQS was
        handing out at that instant comes back after its visibility timeout. A batch being stored is finished."""
        self.stop()
        if self.polling:
            raise SystemExit(0)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def received_last_minute(self) -> int:
        horizon = time.time() - 60
        while self._received and self._received[0] < horizon:
            self._received.popleft()
        return len(self._received)

    def poll_once(self) -> int:
        """One long poll and what it brought; the number of messages taken."""
        close_old_connections()
        self.polling = True
        try:
            messages = self.queue.receive(wait_seconds=self.wait_seconds)
        finally:
            self.polling = False
        if messages:
            messages += self._gather(len(messages))
        for message in messages:
            self._received.append(time.time())
            self.totals["received"] += 1
        if messages:
            for kind, count in self._store(messages).items():
                self.totals[kind] += count
        for message in messages:
            self.queue.delete(message)
        self.beat()
        if messages:
            log.info("events: %d message(s); %s", len(messages), self.totals)
        return len(messages)

    def _gather(self, have: int) -> list[Any]:
        """What else arrives within GATHER_SECONDS, up to GATHER_MAX in all (short polls: SQS answers at once)."""
        more: list[Any] = []
        until = time.monotonic() + GATHER_SECONDS
        while have + len(more) < GATHER_MAX and not self.stopping and (left := until - time.monotonic()) > 0:
            got = self.queue.receive(wait_seconds=0)
            more += got
            if not got:
                time.sleep(min(0.05, left))
        return more

    @staticmethod
    def _store(messages: list[Any]) -> dict[str, int]:
        """The batch stored together; a database error is raised (nothing deleted: the messages come back after
        their visibility timeout); any other error, each message alone, one the code cannot handle kept aside."""
        try:
            return messages_store(messages)
        except DatabaseError:
            raise
        except Exception:  # noqa: BLE001 — find the message at fault: the others are stored
            log.exception("events: a batch of %d could not be stored together; one at a time", len(messages))
        totals = {"stored": 0, "duplicates": 0, "quarantined": 0}
        for message in messages:
            try:
                outcome = message_store(message_id=message.message_id, body=message.body)
            except DatabaseError:
                raise
            except Exception as exc:  # noqa: BLE001 — a message the code cannot handle must not come back for ever
                log.exception("events: message %s could not be stored", message.message_id)
                outcome = message_quarantine(message_id=message.message_id, body=message.body,
                                             reason=f"{type(exc).__name__}: {exc}")
            _count(totals, outcome)
        return totals

    def beat(self) -> None:
        heartbeat_record(name=HEARTBEAT, detail=f"{self.received_last_minute()} messages received in the last minute; "
                                                f"{self.totals['stored']} stored since it started")

    def run(self) -> None:
        log.info("events: reading %s", self.queue.where())
        backoff = 1.0
        while not self.stopping:
            try:
                self.poll_once()
                backoff = 1.0
            except aws.AWS_ERRORS as exc:
                log.warning("events: the queue cannot be read (%s); again in %.0f s", aws.error_code(exc), backoff)
                self.queue.forget()
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except DatabaseError as exc:
                log.warning("events: the database cannot be reached (%s); again in %.0f s", exc, backoff)
                close_old_connections()
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
        log.info("events: stopped; %s", self.totals)
