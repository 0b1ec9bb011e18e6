"""The embedded broker as `make run` runs it: the Procfile's workers (`python -m celery`, so the checkout's own code),
SQLite and the filesystem broker in a scratch folder. Not part of `make bench` (its "before" is another checkout):

    CHECKOUT=. .venv/bin/python -m bench.broker drain 500     # a burst of N portal.tasks.worker_heartbeat tasks
    CHECKOUT=. .venv/bin/python -m bench.broker latency 200   # N CloudTrail files queued, then a remediation task

drain N: N tasks published at once; tasks/s from the first publish to the last 'succeeded' line of the workers' logs.
latency N: N real CloudTrail files (100 read-only records each, in the in-process sandbox) queued for ingest, then
  remediation.tasks.remediate_findings([]) 1 s later; seconds from its publish to its 'received' line, and until all
  N files are done. CHECKOUT names the checkout to measure (another clone of an older commit measures "before").
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ACCOUNT = "111111111111"
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}):")
Workers = list[tuple[subprocess.Popen, Path]]


def environment(checkout: Path, scratch: Path) -> dict[str, str]:
    """The checkout's code on a scratch SQLite file and broker folder; nothing of the caller's settings."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("CELERY_", "DJANGO_", "AWS_", "GUARDRAIL_"))
                 and k not in ("DATABASE_URL", "REDIS_URL")}
    return {**inherited, "DJANGO_SETTINGS_MODULE": "portal.settings", "GUARDRAIL_ENV_FILE": os.devnull,
            "SECRET_KEY": "bench-broker-" + "x" * 40, "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3",
            "BROKER_FOLDER": str(scratch / "broker"), "SANDBOX_DEMO_NETWORK": "false", "SANDBOX_FLOWLOG_SECONDS": "0",
            "PYTHONPATH": str(checkout), "PYTHONUNBUFFERED": "1"}


def when(line: str) -> float:
    return datetime.strptime(STAMP.match(line)[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def procfile_start(checkout: Path, scratch: Path, env: dict[str, str], wanted, endpoint: str = "",
                   ready: dict[str, str] | None = None, timeout: float = 60) -> Workers:
    """The checkout's Procfile lines whose name `wanted(name)` accepts, each started as the Procfile says but with
    the checkout's own interpreter (`.venv/bin/celery` as `python -m celery`), `var/` moved into `scratch` and
    `${NAME}` filled from `env`; each process's output in scratch/<name>.log. Waits until each log shows its
    `ready` text (default: Celery's " ready." for workers, "beat: Starting" for beat, nothing for the rest)."""
    ready = {"worker": " ready.", "beat": "beat: Starting...", **(ready or {})}
    started = []
    for line in (checkout / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if not name or not wanted(name):
            continue
        argv = [re.sub(r"\$\{(\w+)\}", lambda m: env[m[1]], word).replace("var/", f"{scratch}/")
                for word in shlex.split(command)]
        python = str(checkout / ".venv/bin/python")
        argv = [python, "-m", "celery", *argv[1:]] if argv[0].endswith("/celery") else [python, *argv[1:]]
        log = scratch / f"{name}.log"
        with open(log, "w") as out:
            started.append((subprocess.Popen(
                argv, cwd=checkout, env={**env, **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {})}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True), log))
        started[-1][0].name = name  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    for proc, log in started:
        text = next((t for prefix, t in ready.items() if proc.name.startswith(prefix)), "")  # type: ignore
        while text not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
    return started


def workers_start(checkout: Path, scratch: Path, env: dict[str, str], endpoint: str = "") -> Workers:
    """Every `worker*` line of the checkout's Procfile, as `python -m celery` (the checkout's code)."""
    started = procfile_start(checkout, scratch, env, lambda name: name.startswith("worker"), endpoint)
    time.sleep(2)
    return started


def lines(workers: Workers, pattern: str) -> list[str]:
    return [line for _, log in workers for line in log.read_text().splitlines() if re.search(pattern, line)]


def workers_stop(workers: Workers) -> None:
    """SIGTERM to each process's group (what honcho sends), SIGKILL after 20 s; one gone already is passed over."""
    for proc, _ in workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc, _ in workers:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def read_records(account_id: str, file_tag: str, count: int, when: str = "2026-11-28T12:00:00Z",
                 user: str = "daisy") -> list[dict]:
    """`count` CloudTrail records of a person's DescribeInstances in `account_id`, eventIDs unique by `file_tag`:
    what fills a trail file of a busy account."""
    return [{"eventVersion": "1.08", "eventID": f"bench-{file_tag}-{i}", "eventTime": when,
             "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "readOnly": True,
             "awsRegion": "us-east-1", "recipientAccountId": account_id, "sourceIPAddress": "203.0.113.9",
             "userIdentity": {"type": "IAMUser", "userName": user, "accountId": account_id,
                              "arn": f"arn:aws:iam::{account_id}:user/{user}"}} for i in range(count)]


def drain(count: int, start) -> str:
    from portal.celery import app

    workers = start()
    try:
        started = time.time()
        with app.producer_or_acquire() as producer:
            for _ in range(count):
                app.send_task("portal.tasks.worker_heartbeat", producer=producer)
        deadline = time.monotonic() + 1200
        while len(done := lines(workers, r"worker_heartbeat\[.*succeeded")) < count:
            assert time.monotonic() < deadline, f"{len(done)} of {count} done"
            time.sleep(0.5)
        seconds = max(when(line) for line in done) - started
        return f"drain: {count} tasks done {seconds:.1f} s after the first publish: {count / seconds:.1f} tasks/s"
    finally:
        workers_stop(workers)


def _trail_files(server, count: int) -> tuple[str, list[str]]:
    import boto3

    from audit.models import LogFile
    from sandbox.bootstrap import bootstrap_from_portal, trail_bucket
    from sandbox.identity import OPERATOR_ACCESS_KEY_ID, OPERATOR_SECRET_ACCESS_KEY
    from sandbox.organization import ACCESS_ROLE_NAME

    bootstrap_from_portal()
    bucket = trail_bucket(ACCOUNT)
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id=OPERATOR_ACCESS_KEY_ID, aws_secret_access_key=OPERATOR_SECRET_ACCESS_KEY)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ACCESS_ROLE_NAME}",
                            RoleSessionName="bench-broker")["Credentials"]
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                      aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    keys = []
    for n in range(count):
        records = read_records(ACCOUNT, f"broker-{n}", 100)
        key = (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/28/"
               f"{ACCOUNT}_CloudTrail_us-east-1_20261128T1200Z_b{n}.json.gz")
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
        LogFile.objects.get_or_create(bucket=bucket, key=key, defaults={"account_id": ACCOUNT})
        keys.append(key)
    return bucket, keys


def latency(count: int, start) -> str:
    from audit.models import LogFile, LogFileStatus
    from portal.celery import app
    from sandbox.testing import running_sandbox

    with running_sandbox(flush_seconds=3600.0) as server:
        bucket, keys = _trail_files(server, count)
        workers = start(server.endpoint)
        try:
            started = time.time()
            with app.producer_or_acquire() as producer:
                for key in keys:
                    app.send_task("audit.tasks.cloudtrail_ingest_file", args=[ACCOUNT, bucket, key], producer=producer)
            time.sleep(1.0)
            sent = time.time()
            app.send_task("remediation.tasks.remediate_findings", args=[[]])
            deadline = time.monotonic() + 1800
            while not (got := lines(workers, r"remediate_findings\[.*received")):
                assert time.monotonic() < deadline, "the remediation task was never received"
                time.sleep(0.2)
            mine = LogFile.objects.filter(bucket=bucket, key__in=keys)
            while mine.filter(status=LogFileStatus.DONE).count() < count:
                assert time.monotonic() < deadline, "the files were not all ingested"
                time.sleep(0.5)
            files = time.time() - started
            return (f"latency: remediate_findings received {when(got[0]) - sent:.2f} s after its publish, {count} "
                    f"file-ingest tasks queued 1 s before it; all {count} files done in {files:.1f} s "
                    f"({count / files:.1f} files/s)")
        finally:
            workers_stop(workers)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("drain", "latency"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200
    checkout = Path(os.environ.get("CHECKOUT", ".")).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="guardrail-bench-broker-"))
    try:
        env = environment(checkout, scratch)
        os.environ.update(env)
        os.chdir(checkout)
        sys.path.insert(0, str(checkout))
        python = str(checkout / ".venv/bin/python")
        subprocess.run([python, "manage.py", "migrate", "-v0"], check=True, env=env)
        if mode == "latency":
            subprocess.run([python, "manage.py", "seed_demo"], check=True, env=env, stdout=subprocess.DEVNULL)
        import django

        django.setup()
        run = {"drain": drain, "latency": latency}[mode]
        print(run(count, lambda endpoint="": workers_start(checkout, scratch, env, endpoint)), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
