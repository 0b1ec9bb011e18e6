"""Integration tests: real PostgreSQL (DATABASE_URL), real Redis (REDIS_URL), real Celery workers.

`make test` runs them in a second pass with GUARDRAIL_INTEGRATION=1; .ci/run sets both URLs.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from portal import routing
from tests.integration.faults import fault_stack

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if not os.environ.get("GUARDRAIL_INTEGRATION"):
        missing.append("GUARDRAIL_INTEGRATION (set by `make test-integration`)")
    for item in items:
        if "integration" in item.keywords and missing:
            item.add_marker(pytest.mark.skip(
                reason=f"needs real PostgreSQL and Redis: {', '.join(missing)} not set (.ci/run sets them)"
            ))


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def _start_worker(tmp_path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "GUARDRAIL_ENV_FILE": os.devnull,
        "SECRET_KEY": settings.SECRET_KEY,  # the worker decrypts what the web side encrypted
        "DATABASE_URL": _db_url(),
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
    }
    with open(tmp_path / f"{name}.log", "w") as log:  # the worker keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO", "--concurrency", "1",
             "--hostname", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
             "--queues", ",".join(routing.QUEUES)],  # every queue (portal/routing.py)
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start real `celery worker` processes on the test database and the real Redis broker."""
    assert connection.vendor == "postgresql", "integration tests run on PostgreSQL"
    started: list[subprocess.Popen] = []

    def start(name: str = "worker") -> subprocess.Popen:
        started.append(_start_worker(tmp_path, f"{name}{len(started)}"))
        return started[-1]

    yield start
    for proc in started:
        _stop(proc)


@pytest.fixture
def celery_worker_process(workers):
    """One real worker process."""
    return workers()


@pytest.fixture(scope="module")
def broken(request, tmp_path_factory):
    """A production-shaped stack to break (faults.py `fault_stack`), one for the test module, its database named
    after it (test_faults_aws.py: faults_aws): (stack, proxy in front of AWS, private Redis)."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    with fault_stack(tmp_path_factory.mktemp(name), name) as (stack, proxy, broker):
        yield stack, proxy, broker


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
