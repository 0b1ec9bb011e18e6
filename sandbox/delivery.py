"""Delivering CloudTrail files: buffer records, and every few seconds write gzip JSON into the trail's bucket (and
add them to the account's Event history, sandbox.event_history, trail or not).

Files go through moto's S3 backend in-process, not HTTP, so the writer's own writes are never logged
themselves, and moto's put_object still fires the bucket's event notifications (S3 → SQS).
AWS delivers about every 5 minutes; the sandbox every `flush_seconds` (2 s by default).
"""

from __future__ import annotations

import datetime
import gzip
import json
import logging
import secrets
import string
import threading
from collections import defaultdict, deque
from typing import Any

from moto.s3.models import s3_backends
from moto.sns.models import sns_backends

from sandbox.event_history import EventHistory
from sandbox.records import CapturedCall, dumps, record_of
from sandbox.trails import Destination

log = logging.getLogger(__name__)

_ALPHANUMERIC = string.ascii_letters + string.digits


def object_key(prefix: str, account_id: str, region: str, when: datetime.datetime, org_id: str = "") -> str:
    """`[prefix/]AWSLogs/[<org id>/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz`

    (16 random alphanumerics at the end, as AWS names its files; an organisation trail's keys carry the
    organisation id.)
    """
    random_part = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(16))
    name = f"{account_id}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{random_part}.json.gz"
    key = f"AWSLogs/{org_id + '/' if org_id else ''}{account_id}/CloudTrail/{region}/{when:%Y/%m/%d}/{name}"
    return f"{prefix}/{key}" if prefix else key


def write_object(bucket: str, key: str, data: bytes) -> bool:
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        log.warning("sandbox: CloudTrail bucket %s does not exist; dropping a log file", bucket)
        return False
    partition, account_id = owner
    s3_backends[account_id][partition].put_object(bucket, key, data)
    return True


def notify_topic(topic_arn: str, bucket: str, key: str) -> None:
    """CloudTrail's own notification of a delivered file to the trail's SNS topic: `{"s3Bucket": ..., "s3ObjectKey":
    [...]}` (CloudTrail User Guide, "Configuring Amazon SNS notifications for CloudTrail"); published in-process,
    so SNS delivers it to the topic's subscribers as it delivers any message (an SQS queue: enveloped or raw)."""
    _, _, _, region, account_id, _ = topic_arn.split(":", 5)
    per_account = dict.get(sns_backends, account_id)
    backend = dict.get(per_account, region) if per_account is not None else None
    if backend is None or topic_arn not in backend.topics:
        log.warning("sandbox: CloudTrail's SNS topic %s does not exist; no notification of s3://%s/%s",
                    topic_arn, bucket, key)
        return
    backend.publish(message=json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]}), arn=topic_arn)


class PeriodicWriter:
    """A daemon thread calling `flush()` every `period` seconds until `stop()` (a period of 0 or less: never, only
    when called); one failed pass is logged and the next one comes."""

    thread_name = "sandbox-writer"

    def __init__(self, period: float) -> None:
        self.period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def flush(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def start(self) -> None:
        if self.period <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.flush()
            except Exception:  # the writer must outlive any one bad pass
                log.exception("sandbox: %s failed", self.thread_name)


class CloudTrailWriter(PeriodicWriter):
    """Collects captured calls; `flush()` turns them into records and writes one file per destination."""

    thread_name = "sandbox-cloudtrail"

    def __init__(self, flush_seconds: float) -> None:
        super().__init__(flush_seconds)
        self.flush_seconds = flush_seconds
        self._pending: list[CapturedCall] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        # (bucket, key) of the files written lately, newest last: for tests and the command's status line.
        self.delivered: deque[tuple[str, str]] = deque(maxlen=1000)
        self.history = EventHistory()  # every account's Event history (LookupEvents), trail or not

    def submit(self, captured: CapturedCall) -> None:
        with self._lock:
            self._pending.append(captured)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self.delivered.clear()
        self.history.clear()

    def stop(self) -> None:
        super().stop()
        self.flush()  # what is pending is delivered

    def flush(self) -> list[tuple[str, str]]:
        """Deliver everything captured so far; returns the (bucket, key) of each file written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            buffers: dict[tuple[Destination, str, str], list[dict[str, Any]]] = defaultdict(list)
            for captured in batch:
                try:
                    record = record_of(captured)
                except Exception:  # one unreadable call must not lose the others
                    log.exception("sandbox: cannot build a CloudTrail record for %s", captured.call.operation)
                    continue
                self.history.add(captured.recipient_account_id, record)
                for destination in captured.destinations:
                    buffers[destination, captured.recipient_account_id, record["awsRegion"]].append(record)
            written = []
            now = datetime.datetime.now(datetime.timezone.utc)
            for (destination, account_id, region), records in buffers.items():
                bucket = destination.bucket
                key = object_key(destination.prefix, account_id, region, now, destination.org_id)
                try:
                    if write_object(bucket, key, gzip.compress(dumps(records))):
                        written.append((bucket, key))
                        if destination.topic_arn:
                            notify_topic(destination.topic_arn, bucket, key)
                except Exception:
                    log.exception("sandbox: cannot write CloudTrail file s3://%s/%s", bucket, key)
            with self._lock:
                self.delivered.extend(written)
            return written
