"""Every run of a periodic task is a row: succeeded or failed, timed, on which worker, the newest 50 kept."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from ops.models import TaskRun
from portal.request_id import request_id
from ops.services import RUNS_KEPT, task_run_record
from portal.tasks import worker_heartbeat

HEARTBEAT = "portal.tasks.worker_heartbeat"


def test_it_records_a_successful_run(db):
    before = timezone.now()
    worker_heartbeat.delay()
    [run] = TaskRun.objects.all()
    assert (run.task, run.status, run.error) == (HEARTBEAT, "SUCCEEDED", "")
    assert before <= run.started <= run.finished <= timezone.now()
    assert 0 <= run.duration < 5 and run.hostname and run.task_id


def test_it_records_a_failed_run_with_the_error_cut_to_500_characters(db):
    with (mock.patch("portal.tasks.heartbeat_record", autospec=True, side_effect=RuntimeError("x" * 1000)),
          pytest.raises(RuntimeError)):
        worker_heartbeat.delay()
    [run] = TaskRun.objects.all()
    assert run.status == "FAILED"
    assert run.error.startswith("RuntimeError: xxx") and len(run.error) == 500


def test_it_records_the_request_that_queued_it(db):
    token = request_id.set("req-beat")
    try:
        worker_heartbeat.delay()
    finally:
        request_id.reset(token)
    assert TaskRun.objects.get().request_id == "req-beat"


def test_it_records_periodic_tasks_only(db):
    from ops.tests.test_request_id import probe

    probe.delay("not periodic")
    assert not TaskRun.objects.exists()


def test_a_broken_recorder_never_fails_the_task(db, caplog):
    with mock.patch("ops.services.task_run_record", autospec=True, side_effect=RuntimeError("db gone")):
        worker_heartbeat.delay()
    assert "could not record the run of portal.tasks.worker_heartbeat" in caplog.text
    assert request_id.get() is None


def test_it_keeps_the_newest_runs_of_each_task(db):
    started = timezone.now() - timedelta(seconds=1)
    for i in range(RUNS_KEPT + 5):
        task_run_record(task=HEARTBEAT, task_id=f"hb-{i}", request_id="", started=started, duration=0.1,
                        succeeded=True)
    task_run_record(task="audit.tasks.cloudtrail_poll", task_id="poll", request_id="", started=started,
                    duration=0.1, succeeded=True)
    kept = list(TaskRun.objects.filter(task=HEARTBEAT).values_list("task_id", flat=True))
    assert len(kept) == RUNS_KEPT
    assert kept[0] == f"hb-{RUNS_KEPT + 4}" and kept[-1] == "hb-5"
    assert TaskRun.objects.filter(task="audit.tasks.cloudtrail_poll").count() == 1
