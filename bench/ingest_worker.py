"""Records per second through the whole ingest path on ONE real Celery worker process: gzip files land in a
sandbox trail bucket, S3 notifies the account's SQS queue, the portal's poller (audit.tasks.cloudtrail_poll,
called here in-process) enqueues one cloudtrail_ingest_file task per file on a filesystem broker, and a
separate `celery worker --pool solo` reads, parses, deduplicates, enriches and stores them. Anchored on bare
gzip + JSON parsing of the same 20 bodies in the same run. Also the worker's resident memory (VmRSS) after
the first file and after all 100,000 records: it must not grow with the count.

The records are read-only calls (DescribeInstances, readOnly true), so the configuration recorder is not
dispatched: this measures ingest only. The sandbox flushes its own CloudTrail records once an hour here,
so the poller's and the worker's own API calls do not come back as extra log files during the run; the
trails the bootstrap started are stopped again afterwards, so later benches see the sandbox as before.
BENCH_VERBOSE=1 also prints the seconds and the worker's VmRSS/VmHWM.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery.signals import before_task_publish
from django.conf import settings

from audit.models import CloudTrailEvent, LogFile, LogFileStatus
from audit.tasks import cloudtrail_poll
from bench.figures import line
from portal import aws, filesystem_broker, routing
from portal.celery import app as celery_app
from sandbox.bootstrap import (
    TRAIL_NAME,
    bootstrap_from_portal,
    portal_accounts,
    trail_bucket,
)
from sandbox.testing import running_sandbox
from sandbox.trails import logging_trails

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "111111111111"
PREFIX = "worker-"
INGEST_TIMEOUT = 600.0
WORKER_START_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 20.0
BROKER_URL = "filesystem://localhost//"  # the embedded broker of `make run`; a host named keeps kombu quiet
INGEST_QUEUE = routing.queue_of("audit.tasks.cloudtrail_ingest_file")  # the files queue (portal/routing.py)


def _file(count: int, start: int) -> bytes:
    records = [{"eventVersion": "1.08", "eventID": f"{PREFIX}{start + i}", "eventTime": "2026-11-28T12:00:00Z",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "readOnly": True,
                "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT, "sourceIPAddress": "203.0.113.9",
                "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": ACCOUNT,
                                 "arn": f"arn:aws:iam::{ACCOUNT}:user/daisy"},
                "requestParameters": {"instancesSet": {"items": [{"instanceId": f"i-{start + i:017x}"}]},
                                      "filterSet": {"items": [{"name": "instance-state-name",
                                                               "valueSet": {"items": [{"value": "running"}]}}]}}}
               for i in range(count)]
    return gzip.compress(json.dumps({"Records": records}).encode())


def _key(n: int) -> str:
    return (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/28/"
            f"{ACCOUNT}_CloudTrail_us-east-1_20261128T1200Z_{n}.json.gz")


def _parse(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        json.loads(gzip.decompress(body))
    return time.perf_counter() - started


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for row in status:
            if row.startswith(field + ":"):
                return int(row.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def _real_queueing(folder: Path) -> Iterator[dict[str, str]]:
    """This process's Celery app publishes to a filesystem broker in `folder` (not eagerly) for the duration.

    The app is already configured (eager, memory://) by the time a bench runs: the environment's
    CELERY_BROKER_URL wins over the conf in Celery, the Django settings' CELERY_* names over the plain ones,
    and connection and producer pools may already exist. All of it is switched on the way in and back on the
    way out. Yields the worker's broker environment."""
    for sub in ("queue", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {"data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
               "control_folder": str(folder / "control"), "store_processed": False}
    wanted = {"broker_url": BROKER_URL, "broker_transport": filesystem_broker.TRANSPORT,  # as settings.py has it
              "broker_transport_options": options, "task_always_eager": False}
    conf = celery_app.conf
    names = [form for name in wanted for form in (name, f"CELERY_{name.upper()}")]
    saved_conf = {name: conf[name] for name in names if name in conf}
    saved_env = os.environ.get("CELERY_BROKER_URL")

    def drop_pools() -> None:
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    drop_pools()
    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    conf.update({form: value for name, value in wanted.items() for form in (name, f"CELERY_{name.upper()}")})
    assert celery_app.connection_for_write().transport_cls == filesystem_broker.TRANSPORT and not conf.task_always_eager
    try:
        yield {"CELERY_BROKER_URL": BROKER_URL, "BROKER_FOLDER": str(folder), "CELERY_TASK_ALWAYS_EAGER": "false"}
    finally:
        drop_pools()
        conf.update(saved_conf)
        for name in set(names) - set(saved_conf):
            del conf[name]  # the names this set that were not there before
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env


def _start_worker(env_overrides: dict[str, str], log_path: Path) -> subprocess.Popen:
    env = {**os.environ, **env_overrides,
           "DJANGO_SETTINGS_MODULE": "portal.test_settings",
           "GUARDRAIL_INTEGRATION": "1",  # test_settings keeps DATABASE_URL and the broker of the environment
           "GUARDRAIL_ENV_FILE": os.devnull,  # everything that matters is passed here, not read from .env
           "DATABASE_URL": os.environ["DATABASE_URL"],  # bench/__main__: the bench SQLite file or BENCH_DATABASE_URL
           "SECRET_KEY": settings.SECRET_KEY,
           "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
           "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)  # test_settings would make it the broker
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [celery, "-A", "portal", "worker", "--pool", "solo", "--concurrency", "1", "-Q", INGEST_QUEUE,
             "--loglevel", "INFO", "--hostname", f"bench-ingest-{os.getpid()}@%h",
             "--without-heartbeat", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the bench worker exited ({proc.returncode}) before it was ready:\n{_tail(log_path)}")
        if " ready." in log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the bench worker was not ready after {WORKER_START_TIMEOUT:.0f} s:\n{_tail(log_path)}")


def _stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _logging(account_ids: list[str]) -> set[str]:
    """The accounts whose bootstrap trail is logging now (read from moto in-process, not an API call)."""
    return {acct for acct in account_ids
            if any(arn.endswith(f":trail/{TRAIL_NAME}") for arn in logging_trails(acct, settings.AWS_DEFAULT_REGION))}


def _stop_trails(started: set[str]) -> None:
    """Leave the sandbox as later benches expect it: the trails bootstrap started stop logging again."""
    for account_id in sorted(started):
        try:
            aws.client("cloudtrail", account_id=account_id).stop_logging(Name=TRAIL_NAME)
        except aws.AWS_ERRORS:
            pass


def _ingest(proc: subprocess.Popen, log_path: Path, bucket: str, keys: list[str], total: int
            ) -> tuple[float, float, float, float]:
    """Poll the queue until every file is enqueued, wait until all are DONE. (seconds, rss first, rss end, hwm)."""
    published: list[float] = []

    def on_publish(sender=None, **_):
        if sender == "audit.tasks.cloudtrail_ingest_file" and not published:
            published.append(time.perf_counter())

    before_task_publish.connect(on_publish, weak=False)
    mine = LogFile.objects.filter(bucket=bucket, key__in=keys)
    deadline = time.monotonic() + INGEST_TIMEOUT
    rss_first = None
    try:
        while mine.count() < len(keys):
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {mine.count()} of {len(keys)} files were enqueued in {INGEST_TIMEOUT:.0f} s")
            if not cloudtrail_poll():
                time.sleep(0.05)
    finally:
        before_task_publish.disconnect(on_publish)
    while True:
        done = mine.filter(status=LogFileStatus.DONE).count()
        if rss_first is None and done:
            rss_first = _rss_mib(proc.pid)
        if done == len(keys):
            finished = time.perf_counter()
            break
        bad = mine.filter(status=LogFileStatus.QUARANTINED).first()
        if bad is not None:
            raise RuntimeError(f"{bad} was quarantined: {bad.reason}")
        if proc.poll() is not None:
            raise RuntimeError(f"the bench worker exited ({proc.returncode}) mid-run:\n{_tail(log_path)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {len(keys)} files DONE after {INGEST_TIMEOUT:.0f} s:\n{_tail(log_path)}")
        time.sleep(0.05)
    rss_end = _rss_mib(proc.pid)
    hwm = _status_kib(proc.pid, "VmHWM") / 1024
    stored = CloudTrailEvent.objects.filter(event_id__startswith=PREFIX).count()
    if stored != total or sum(mine.values_list("records", flat=True)) != total:
        raise RuntimeError(f"{stored} events stored, {total} expected")
    return finished - published[0], rss_first, rss_end, hwm


def run(files: int = 20, per_file: int = 5000) -> list[str]:
    total = files * per_file
    bodies = [_file(per_file, i * per_file) for i in range(files)]
    keys = [_key(n) for n in range(files)]
    if (LogFile.objects.filter(bucket=trail_bucket(ACCOUNT), key__in=keys).exists()
            or CloudTrailEvent.objects.filter(event_id__startswith=PREFIX).exists()):
        raise RuntimeError("the bench database holds this bench's files from an earlier run: use a fresh one")
    scratch = Path(tempfile.mkdtemp(prefix="guardrail-bench-worker-"))
    log_path = scratch / "worker.log"
    proc = None
    try:
        # Deliveries once an hour: the run's own API calls are not turned into extra log files meanwhile.
        with running_sandbox(flush_seconds=3600.0), _real_queueing(scratch / "broker") as broker_env:
            accounts = [spec.account_id for spec in portal_accounts()]
            logging_before = _logging(accounts)
            bootstrap_from_portal()
            started_trails = _logging(accounts) - logging_before
            try:
                proc = _start_worker(broker_env, log_path)
                _wait_ready(proc, log_path)
                bucket = trail_bucket(ACCOUNT)
                s3 = aws.client("s3", account_id=ACCOUNT)
                for key, body in zip(keys, bodies):
                    s3.put_object(Bucket=bucket, Key=key, Body=body)
                seconds, rss_first, rss_end, hwm = _ingest(proc, log_path, bucket, keys, total)
                if os.environ.get("BENCH_VERBOSE"):
                    print(f"# ingest_worker: {seconds:.2f} s, VmRSS {rss_first:.1f} -> {rss_end:.1f} MiB, "
                          f"VmHWM {hwm:.1f} MiB", flush=True)
            finally:
                if proc is not None:
                    _stop_worker(proc)
                _stop_trails(started_trails)
        anchor = _parse(bodies)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [
        line("ingest_worker_records_per_second", total / seconds, "records/s", total / anchor,
             "bare gzip+JSON parsing"),
        line(f"ingest_worker_rss_after_{total}_records", rss_end, "MiB", rss_first, f"after the first {per_file}"),
    ]
