"""Records per second through the ingest path (file → parse → dedupe → enrich → stored → handed on) against bare
gzip + JSON parsing of the same file, and the process's memory growth across 100,000 records.

Handing on writes each batch's rows for the signatures (and, for a trail's files, the recorder and the event
rules); their messages go to other workers in production. Tasks are eager in the bench, so a message sent would
run the signatures inline (every record here opens a group to the world: 100,000 alerts) and the figure would be
theirs: the messages are counted instead (`signature_match` measures matching)."""

import gzip
import io
import json
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

from audit.cloudtrail.files import iter_records
from audit.models import CloudTrailEvent, LogFile
from audit.services import BATCH, logfile_ingest
from bench.figures import line
from portal import queue


def _file(count: int, start: int) -> bytes:
    records = [{"eventVersion": "1.08", "eventID": f"bench-{start + i}", "eventTime": "2026-11-28T12:00:00Z",
                "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
                "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "sourceIPAddress": "203.0.113.9",
                "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": "111111111111",
                                 "arn": "arn:aws:iam::111111111111:user/daisy"},
                "requestParameters": {"groupId": f"sg-{start + i:017x}", "ipPermissions": {"items": [
                    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}}
               for i in range(count)]
    return gzip.compress(json.dumps({"Records": records}).encode())


def _ingest(body: bytes, n: int) -> float:
    key = f"AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/28/111111111111_CloudTrail_us-east-1_20261128T1200Z_b{n}.json.gz"
    log_file = LogFile.objects.create(bucket="bench", key=key, status="INGESTING")
    started = time.perf_counter()
    logfile_ingest(log_file=log_file, stream=io.BytesIO(body))
    return time.perf_counter() - started


def _parse(body: bytes) -> float:
    started = time.perf_counter()
    json.loads(gzip.decompress(body))
    return time.perf_counter() - started


@contextmanager
def _messages_held() -> Iterator[list[int]]:
    """The hand-on messages, counted and not sent, for the duration (see the module's docstring)."""
    held: list[int] = []
    real = queue.task_delay
    queue.task_delay = lambda task, handoff_id: held.append(handoff_id)
    try:
        yield held
    finally:
        queue.task_delay = real


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(files: int = 20, per_file: int = 5000) -> list[str]:
    bodies = [_file(per_file, i * per_file) for i in range(files)]
    ours = anchor = 0.0
    rss_after_first = None
    with _messages_held() as held:
        for n, body in enumerate(bodies):
            ours += _ingest(body, n)
            anchor += _parse(body)
            if n == 0:
                rss_after_first = _rss_mib()
    total = files * per_file
    assert len(held) == total // BATCH, len(held)  # a hand-on per batch, for the signatures
    assert CloudTrailEvent.objects.filter(event_id__startswith="bench-").count() == total
    assert sum(1 for _ in iter_records(io.BytesIO(bodies[0]))) == per_file
    return [
        line("ingest_records_per_second", total / ours, "records/s", total / anchor, "bare gzip+JSON parsing"),
        line(f"ingest_peak_rss_after_{total}_records", _rss_mib(), "MiB", rss_after_first,
             f"after the first {per_file}"),
    ]
