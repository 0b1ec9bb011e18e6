"""CloudTrail's events on EventBridge: each logged call, within a second, on the caller's account's default bus.

What AWS does (EventBridge User Guide: "AWS service events delivered via AWS CloudTrail", "Receiving
read-only management events from AWS services", the CloudTrail tutorial; the PutPermission reference):

- CloudTrail sends every management API call it records to the default event bus of the calling account,
  in the call's region, within seconds (the log file follows about 5 minutes later), as
  `{"version": "0", "id": <new uuid>, "detail-type": "AWS API Call via CloudTrail", "source": "aws.<service>",
  "account": <the account>, "time": <eventTime>, "region": <awsRegion>, "resources": [], "detail": <record>}`.
  `source` is "aws." and the first label of eventSource (iam.amazonaws.com → aws.iam); `detail` is the
  CloudTrail record itself (the same eventID, requestParameters, errorCode ... as the log file), `time` its
  eventTime, `id` a uuid of the event's own (as in the real events of ../shared/samples/cloudtrail/
  streamalert-rule-tests/cloudtrail_ec2_image_creation.json). Calls of global services are signed for us-east-1,
  so their events arrive on the us-east-1 bus.
- "To record events with a detail-type value of AWS API Call via CloudTrail, a CloudTrail trail with logging
  enabled is required": the sandbox emits a call's event only while a trail of that account logs the call's
  region (the same trails that decide whether the call reaches a log file; StopLogging is itself emitted).
- Failed calls (refusals included) are sent too, with errorCode and errorMessage in `detail`.
- Read-only calls (names starting Get, List or Describe, except STS's GetFederationToken and GetSessionToken)
  go onto the bus too, but a rule matches them only when its state is
  ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS; a plain ENABLED rule never sees them; DISABLED sees nothing.
  (sandbox.eventroutes does the routing: rule state, pattern, targets and their permissions.)
- Data events (S3 object calls...) reach EventBridge only when a trail logs data events; the sandbox logs no
  data events, so none are emitted. Console sign-ins, service events and Insights events do not occur here.
- AWS also delivers some cross-account calls to the resource owner's bus; the sandbox delivers to the
  account the call is filed under (the caller's, or x-moto-account-id's) only.

The middleware hands each logged call (a CapturedCall) to `EventEmitter.submit`; a daemon thread builds the
record (sandbox.records.record_of: built once, the log file carries the very same dict) and routes the event
through moto's EventBridge state in-process, off the request path. `drain()` does the pending work now.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
import uuid
from collections import deque
from typing import Any

from sandbox.eventroutes import API_CALL, Outcome, route
from sandbox.records import CapturedCall, record_of

log = logging.getLogger(__name__)


def api_call_event(record: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event CloudTrail sends for one record."""
    source = str(record.get("eventSource", "")).split(".", 1)[0]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": API_CALL,
        "source": f"aws.{source}",
        "account": record.get("recipientAccountId", ""),
        "time": record.get("eventTime") or datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "region": record.get("awsRegion", ""),
        "resources": [],
        "detail": record,
    }


class EventEmitter:
    """Puts each submitted call's event on its account's default bus, on a thread of its own."""

    def __init__(self) -> None:
        self._queue: queue.Queue[CapturedCall | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one event routed at a time (drain() and the thread)
        self.emitted: deque[dict[str, Any]] = deque(maxlen=1000)  # events put on a bus lately, newest last
        self.outcomes: deque[Outcome] = deque(maxlen=1000)  # what became of them at each target

    def submit(self, captured: CapturedCall) -> None:
        self._queue.put(captured)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sandbox-eventbridge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self.drain()

    def clear(self) -> None:
        self._drop_pending()
        with self._lock:
            self.emitted.clear()
            self.outcomes.clear()

    def drain(self) -> int:
        """Emit everything submitted so far, now, on this thread, and wait for the one the emitter thread may be
        emitting; returns how many events this thread emitted."""
        count = 0
        while True:
            try:
                captured = self._queue.get_nowait()
            except queue.Empty:
                break
            try:
                if captured is not None:
                    self._emit(captured)
                    count += 1
            except Exception:
                log.exception("sandbox: cannot emit the EventBridge event of %s", captured.call.operation)
            finally:
                self._queue.task_done()
        self._queue.join()  # an event the thread took before us is routed too
        return count

    def _drop_pending(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self._queue.task_done()

    def _run(self) -> None:
        while True:
            captured = self._queue.get()
            try:
                if captured is None:
                    return
                self._emit(captured)
            except Exception:  # the emitter must outlive any one bad call
                log.exception("sandbox: cannot emit the EventBridge event of %s", captured.call.operation)
            finally:
                self._queue.task_done()

    def _emit(self, captured: CapturedCall) -> None:
        event = api_call_event(record_of(captured))
        with self._lock:
            outcomes = route(event, captured.recipient_account_id, captured.call.region)
            self.emitted.append(event)
            self.outcomes.extend(outcomes)
