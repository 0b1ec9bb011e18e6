"""Remediation latency under load (issue 19 point 6): Daisy's AuthorizeSecurityGroupIngress of port 22 from 0.0.0.0/0
to the fix verified, with the Procfile's processes running as real processes and another account busy.

Once per backend: the embedded default of `make run` (SQLite, the filesystem broker) and the production shape
(PostgreSQL on 127.0.0.1:5432 in a scratch database made and dropped here, Redis on 127.0.0.1:6379 database 13,
flushed before and after); a backend that cannot be reached is skipped and the line says why. Each backend runs in
a child process of its own (`python -m bench.remediation_under_load <backend>`) on a scratch folder: migrate,
seed_demo, then the Procfile's sandbox (SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS=300, as AWS delivers about every five
minutes), worker-fast, worker-bulk, beat and events, started as the Procfile says (bench.broker.procfile_start).
The periodic full scans (recorder, every rule) are set to a day, so that each fix measured came through the path
named; everything else runs at its production setting.

The load, in research-dev (222222222222, not Daisy's account), as its administrator: CreateTags and DeleteTags
in turn on one of its groups, paced at 20 calls a second over 4 threads from before the first try to after the last
(the rate achieved is printed); each is a write whose event the recorder, the rules and the signatures take. Right
before the tries: 200 CloudTrail files of 100 records each put into its trail bucket (the bucket's notification ->
its queue -> beat's 5 s poll -> the files queue), so the bulk worker is busy with files while the fixes happen;
when the last of them was done is printed.

Through EventBridge (the events process running): one warm-up try without load, then 20 tries one after another
as in bench/remediation_latency (a fresh group made by Daisy, the portal waited for until it has recorded it and
restricted-ssh has a verdict on it, a random wait of 0-5 s, t0 just before the call; the end is the seeded enforce
policy open-ssh-revoke's revoke_world_ingress run SUCCEEDED with outcome.verified, its `finished`). A try not fixed
60 s after t0 is reported failed with where it stopped; three failed in a row end the series (each of the rest
would wait out its 60 s too). Per try also the call -> its event stored
(CloudTrailEvent.ingested), and the medians of where the time went (stored, recorded, verdict, run created,
finished).

Through log files alone (embedded default only unless BENCH_LOAD_FILES_ONLY=embedded,postgres_redis): 20 fresh
groups made and recorded first, then the kit's forwarding rule (guardrail-events-forward, on each account's default
bus) disabled in Daisy's account and in the load's, as their administrator: no call of theirs reaches the queue
guardrail-events any more, so every event must come from a log file, as in an organisation without the real-time
kit. (The events process keeps running, and its queue does not fill meanwhile.) Another backlog of 200 files, and
the 20 calls made concurrently, each at a random offset over one delivery interval (a sequential run would take 20
intervals, 100 minutes); a try is failed 120 s after an interval. The rule is enabled again afterwards.

Last, a burst: 1,000 CreateTags in research-dev from 4 threads under a role session of their own, the load still
running; seconds from the first call to the last of the 1,000 stored (within 180 s).
BENCH_LOAD_BACKENDS=embedded (or postgres_redis) measures one backend only.

Figures: `name: value unit (ratio vs anchor)`; the anchor is the sandbox's 300 s delivery interval, the latency a
fix driven by log files alone cannot be sure of beating. The goal (issue 19): median <= 5 s, p95 <= 15 s through
EventBridge on both backends. BENCH_VERBOSE=1 prints each try (stderr).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.broker import environment
from bench.load import BACKENDS

CHECKOUT = Path(__file__).resolve().parents[1]
PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379, 13)
CHILD_TIMEOUT = 50 * 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unreachable(backend: str) -> str:
    """Why the backend cannot be measured here, or ""."""
    if backend != "postgres_redis":
        return ""
    try:
        import psycopg

        psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres", connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 — any failure to connect is the reason given
        return f"PostgreSQL at {PG[0]}:{PG[1]} (user postgres) is not reachable: {type(exc).__name__}: {exc}"
    try:
        import redis

        redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2], socket_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis at {REDIS[0]}:{REDIS[1]} is not reachable: {type(exc).__name__}: {exc}"
    return ""


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def _redis_flush() -> None:
    import redis

    redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2], socket_timeout=5).flushdb()


def backend_environment(backend: str, scratch: Path) -> tuple[dict[str, str], str]:
    """The processes' environment on the backend (bench.broker.environment plus the load's settings), and the
    scratch PostgreSQL database's name ("" on the embedded default)."""
    env = {**environment(CHECKOUT, scratch), "SANDBOX_PORT": str(_free_port()),
           "SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS": os.environ.get("BENCH_LOAD_DELIVERY", "300"),
           "RECORDER_SCAN_SECONDS": "86400",
           "COMPLIANCE_PERIODIC_SECONDS": "86400", "BENCH_SCRATCH": str(scratch)}
    database = ""
    if backend == "postgres_redis":
        database = f"guardrail_bench_load_{os.getpid()}"
        env["DATABASE_URL"] = f"postgres://postgres@{PG[0]}:{PG[1]}/{database}"
        env["CELERY_BROKER_URL"] = f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS[2]}"
    return env, database


def _child(backend: str, files_only: bool) -> list[str]:
    """One backend measured in a child process on a scratch folder (and database); everything removed after."""
    scratch = Path(tempfile.mkdtemp(prefix=f"guardrail-bench-load-{backend}-"))
    env, database = backend_environment(backend, scratch)
    try:
        if database:
            _pg(f'CREATE DATABASE "{database}"')
            _redis_flush()
        proc = subprocess.Popen([str(CHECKOUT / ".venv/bin/python"), "-m", "bench.remediation_under_load", backend,
                                 "files" if files_only else "-"], cwd=CHECKOUT, env=env, stdout=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the child stops its processes on SIGTERM
            out, _ = proc.communicate(timeout=120)
            out += f"\nremediation_latency_under_load_{backend}: stopped after {CHILD_TIMEOUT / 60:.0f} min\n"
        lines = [line for line in out.splitlines() if line.strip()]
        if proc.returncode:
            lines.append(f"remediation_latency_under_load_{backend}: the run failed (exit {proc.returncode}); "
                         f"its traceback is on stderr above")
        return lines
    finally:
        if database:
            try:
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            finally:
                _redis_flush()
        shutil.rmtree(scratch, ignore_errors=True)


def run() -> list[str]:
    files_only = {b.strip() for b in os.environ.get("BENCH_LOAD_FILES_ONLY", "embedded").split(",")}
    only = {b.strip() for b in os.environ.get("BENCH_LOAD_BACKENDS", ",".join(BACKENDS)).split(",")}
    out = []
    for backend, what in BACKENDS.items():
        if backend not in only:
            continue
        why = _unreachable(backend)
        if why:
            out.append(f"remediation_latency_under_load_{backend}: skipped ({what}): {why}")
            continue
        out += _child(backend, backend in files_only)
    return out


if __name__ == "__main__":
    from bench.load_run import main

    sys.exit(main(sys.argv[1], sys.argv[2] == "files"))
