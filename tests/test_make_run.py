"""`make run` from a clean clone: the whole stack comes up, /healthz goes green, Ctrl-C stops it all.

Then daisy's own sandbox keys make a boto3 call that arrives, correctly shaped, as a CloudTrail file.
"""

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from portal import aws

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[1]
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "GUARDRAIL_", "AWS_", "CELERY_", "PYTEST", "VIRTUAL_ENV"))
             and k not in {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "PORT", "SANDBOX_PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, "make run exited before /healthz went green"
        status, body = _get(url)
        if status == 200 and json.loads(body)["status"] == "ok":
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"/healthz not green after {timeout} s: {body[:500]!r}")


@pytest.fixture
def stack(tmp_path):
    clone = tmp_path / "guardrail"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port, sandbox_port = _free_port(), _free_port()
    log = open(tmp_path / "make-run.log", "w")
    started = time.monotonic()
    proc = subprocess.Popen(["make", "run", f"PORT={port}", f"SANDBOX_PORT={sandbox_port}"], cwd=clone,
                            env=CLEAN_ENV, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        seconds = _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc, timeout=900)
        yield {"clone": clone, "port": port, "sandbox_port": sandbox_port, "proc": proc,
               "seconds": seconds, "started": started, "log": tmp_path / "make-run.log"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        log.close()


def _sandbox_credentials(clone: Path, username: str, sandbox_port: int) -> dict[str, str]:
    out = subprocess.run([str(clone / ".venv/bin/python"), "manage.py", "sandbox_credentials", username],
                         cwd=clone, env={**CLEAN_ENV, "SANDBOX_PORT": str(sandbox_port)},
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return dict(line.split("=", 1) for line in out.strip().splitlines())


def _cloudtrail_records(bucket: str, account_id: str) -> list[dict]:
    s3 = aws.client("s3", account_id=account_id)
    records = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=f"AWSLogs/{account_id}/CloudTrail/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        records += json.loads(gzip.decompress(body))["Records"]
    return records


def _ran(log: Path, worker: str, task: str) -> bool:
    """The Procfile process `worker` (honcho's `HH:MM:SS worker-fast.1 | ` prefix) received `task`."""
    pattern = rf"^\S+ {re.escape(worker)}\.\d+\s+\| .*Task {re.escape(task)}\["
    return re.search(pattern, log.read_text(errors="replace"), re.MULTILINE) is not None


def test_it_runs_the_whole_stack_from_a_clean_clone(stack, settings):
    port, clone = stack["port"], stack["clone"]
    print(f"make run: /healthz green {stack['seconds']:.0f} s after start")
    (Path(os.environ.get("TMPDIR", "/tmp")) / "guardrail-make-run-seconds").write_text(f"{stack['seconds']:.1f}\n")

    status, body = _get(f"http://127.0.0.1:{port}/login/")
    assert status == 200 and b"Log in to Guardrail" in body
    status, body = _get(f"http://127.0.0.1:{port}/api/docs/")
    assert status == 200 and b"swagger-ui" in body
    status, body = _get(f"http://127.0.0.1:{port}/static/vendor/bootstrap/bootstrap.min.css")
    assert status == 200

    # Daisy's own keys, used outside the portal, show up in CloudTrail under her name.
    creds = _sandbox_credentials(clone, "daisy", stack["sandbox_port"])
    assert creds["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{stack['sandbox_port']}"
    settings.AWS_ENDPOINT_URL = creds["AWS_ENDPOINT_URL"]
    aws.reset_credentials_cache()
    ec2 = aws.client("ec2", access_key_id=creds["AWS_ACCESS_KEY_ID"],
                     secret_access_key=creds["AWS_SECRET_ACCESS_KEY"], region=creds["AWS_DEFAULT_REGION"])
    group = ec2.create_security_group(GroupName="daisy-web", Description="made outside the portal")
    deadline = time.monotonic() + 60
    mine = []
    while time.monotonic() < deadline and not mine:
        records = _cloudtrail_records("guardrail-cloudtrail-111111111111", "111111111111")
        mine = [r for r in records if r["eventName"] == "CreateSecurityGroup"
                and r["userIdentity"].get("userName") == "daisy"]
        time.sleep(1)
    assert mine, "daisy's CreateSecurityGroup never reached the trail bucket"
    record = mine[0]
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["accessKeyId"] == creds["AWS_ACCESS_KEY_ID"]
    assert record["recipientAccountId"] == "111111111111"
    assert record["eventSource"] == "ec2.amazonaws.com"
    assert record["requestParameters"]["groupName"] == "daisy-web"
    assert record["responseElements"]["groupId"] == group["GroupId"]
    assert creds["AWS_SECRET_ACCESS_KEY"] not in json.dumps(records)

    # The Procfile's two workers each take their queues (portal/routing.py): the poller that finds the file on the
    # fast one, the file's ingest and the heartbeat on the bulk one.
    wanted = {("worker-fast", "audit.tasks.cloudtrail_poll"), ("worker-bulk", "audit.tasks.cloudtrail_ingest_file"),
              ("worker-bulk", "portal.tasks.worker_heartbeat")}
    deadline = time.monotonic() + 90
    while (missing := {(w, task) for w, task in wanted if not _ran(stack["log"], w, task)}) \
            and time.monotonic() < deadline:
        time.sleep(2)
    assert not missing, f"not run by the worker of their queue: {sorted(missing)}"
    assert not _ran(stack["log"], "worker-fast", "audit.tasks.cloudtrail_ingest_file")

    # Ctrl-C stops all of it: no process of the stack keeps its port.
    os.killpg(stack["proc"].pid, signal.SIGINT)
    assert stack["proc"].wait(timeout=30) is not None
    time.sleep(1)
    assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 0
    assert _get(f"http://127.0.0.1:{stack['sandbox_port']}/")[0] == 0
