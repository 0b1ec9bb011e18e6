"""A request id set on the web side reaches a real worker over Redis: the worker's JSON log lines and the
periodic task's run row carry it; a run that nothing with an id queued carries its own task id."""

import json

import pytest

from ops.models import TaskRun
from portal.request_id import request_id
from portal.tasks import worker_heartbeat
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration
HEARTBEAT = "portal.tasks.worker_heartbeat"


def _log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_it_carries_the_request_id_into_a_real_worker(workers, tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    workers()
    token = request_id.set("itest-request-1")
    try:
        worker_heartbeat.delay()
    finally:
        request_id.reset(token)
    run = wait_for(lambda: TaskRun.objects.filter(task=HEARTBEAT).first(), timeout=60)
    assert run is not None, (tmp_path / "worker0.log").read_text()[-3000:]
    assert (run.status, run.request_id) == ("SUCCEEDED", "itest-request-1")
    assert run.hostname.startswith("worker0-")
    lines = _log_lines(tmp_path / "worker0.log")
    assert any(line.get("request_id") == "itest-request-1" and line.get("task_name") == HEARTBEAT
               and line.get("task_id") == run.task_id for line in lines)

    worker_heartbeat.delay()  # queued outside any request: the run starts its own chain
    second = wait_for(lambda: TaskRun.objects.filter(task=HEARTBEAT).exclude(pk=run.pk).first(), timeout=60)
    assert second is not None and second.request_id == second.task_id
