"""What bench/remediation_under_load does to the sandbox besides Daisy's tries: another account's steady writes, a
backlog of log files in its trail bucket, a burst of calls; and the figures' small pure helpers.

All of it acts as that account's administrator (sandbox.testing.operator_clients: the sandbox's operator through
the OrganizationAccountAccessRole), over HTTP, against a sandbox in another process.
"""

from __future__ import annotations

import datetime
import gzip
import json
import math
import random
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.figures import p95

# The backends the latency-under-load bench measures (bench.remediation_under_load), and what each one is.
BACKENDS = {"embedded": "SQLite + filesystem broker, as make run", "postgres_redis": "PostgreSQL + Redis"}

LOAD_ACCOUNT = "222222222222"  # research-dev, Dan's team's: not Daisy's
LOAD_PERSON = "dan"


def spread(values: list[float]) -> tuple[float, float]:
    """(median, p95) of the values that are numbers; (nan, nan) when there are none, the one value twice for one."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    return statistics.median(values), (p95(values) if len(values) > 1 else values[0])


def phases(count: int, window: float, rng: random.Random) -> list[float]:
    """`count` offsets in [0, window), sorted: when each of the concurrent tries makes its call, at a random phase of
    the delivery timer (whose own phase the bench does not know)."""
    return sorted(rng.uniform(0.0, window) for _ in range(count))


def paced_rate(made: int, seconds: float) -> float:
    return made / seconds if seconds > 0 else math.nan


class Writes(threading.Thread):
    """Background load: CreateTags and DeleteTags in turn on one security group of the load account, paced to `rate`
    calls a second over `threads` threads (each on fixed ticks; a late call does not make the next one early).
    Every call is a write that names a resource: its event goes to the recorder, the rules and the signatures."""

    def __init__(self, clients, rate: float, threads: int = 4) -> None:
        super().__init__(name="bench-load", daemon=True)
        ec2 = clients("ec2")
        self.group = ec2.create_security_group(GroupName=f"bench-load-{uuid.uuid4().hex[:8]}",
                                               Description="remediation_under_load background writes")["GroupId"]
        self.clients = [clients("ec2") for _ in range(threads)] if threads > 1 else [ec2]
        self.rate, self.halt = rate, threading.Event()
        self.made = self.failed = 0
        self.started = self.ended = 0.0
        self._lock = threading.Lock()

    def _loop(self, ec2, offset: float) -> None:
        every = len(self.clients) / self.rate
        tick, n = time.monotonic() + offset, 0
        while not self.halt.is_set():
            self.halt.wait(max(0.0, tick - time.monotonic()))
            if self.halt.is_set():
                return
            tag = [{"Key": "bench-load", "Value": f"{offset:.3f}-{n}"}]
            try:
                if n % 2:
                    ec2.delete_tags(Resources=[self.group], Tags=[{"Key": "bench-load"}])
                else:
                    ec2.create_tags(Resources=[self.group], Tags=tag)
                with self._lock:
                    self.made += 1
            except Exception:  # noqa: BLE001 — counted, not fatal: the load goes on
                with self._lock:
                    self.failed += 1
            n += 1
            tick += every
            now = time.monotonic()
            while tick < now - every:  # fell behind by more than a tick: drop the missed ones, say so in the rate
                tick += every

    def run(self) -> None:
        self.started = time.monotonic()
        step = 1.0 / self.rate
        threads = [threading.Thread(target=self._loop, args=(ec2, i * step), daemon=True)
                   for i, ec2 in enumerate(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.ended = time.monotonic()

    def window(self) -> tuple[int, float]:
        """Calls made so far and the seconds since the load started."""
        return self.made, (self.ended or time.monotonic()) - self.started

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)


def backlog(clients, bucket: str, count: int, records: int, tag: str) -> list[str]:
    """`count` CloudTrail files of `records` records each, put into the account's trail bucket where the sandbox
    delivers its own (the bucket's notification tells the account's queue; beat's poll finds them, the files queue
    takes them). Their records are a person's reads, eventIDs unique to this backlog."""
    from bench.broker import read_records

    s3 = clients("s3")
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, when = now.strftime("%Y%m%dT%H%MZ"), now.strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = []
    for n in range(count):
        body = {"Records": read_records(LOAD_ACCOUNT, f"{tag}-{n}", records, when=when, user=LOAD_PERSON)}
        key = (f"AWSLogs/{LOAD_ACCOUNT}/CloudTrail/us-east-1/{now:%Y/%m/%d}/"
               f"{LOAD_ACCOUNT}_CloudTrail_us-east-1_{stamp}_{tag}{n:04d}.json.gz")
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps(body).encode()))
        keys.append(key)
    return keys


@dataclass
class Burst:
    session: str
    calls: int
    failed: int
    first: datetime.datetime  # just before the first call
    last: datetime.datetime  # just after the last answer


def burst(credentials_for, count: int, threads: int = 4) -> Burst:
    """`count` CreateTags as fast as `threads` threads make them, under a role session of their own (the events'
    identity ARN ends with it), each with a tag value of its own."""
    from portal import aws

    session = f"bench-burst-{uuid.uuid4().hex[:8]}"
    credentials = credentials_for(session)
    clients = [aws.client("ec2", region="us-east-1", **credentials) for _ in range(threads)]
    group = clients[0].create_security_group(GroupName=session, Description="remediation_under_load burst")["GroupId"]
    failed = 0

    def calls(index: int) -> int:
        bad = 0
        for n in range(index, count, threads):
            try:
                clients[index].create_tags(Resources=[group], Tags=[{"Key": "bench-burst", "Value": f"{session}-{n}"}])
            except Exception:  # noqa: BLE001 — counted
                bad += 1
        return bad

    first = datetime.datetime.now(datetime.timezone.utc)
    with ThreadPoolExecutor(threads) as pool:
        failed = sum(pool.map(calls, range(threads)))
    last = datetime.datetime.now(datetime.timezone.utc)
    return Burst(session, count, failed, first, last)
