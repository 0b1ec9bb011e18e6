"""Every task waits in the queue of its kind; the workers that make run and docker compose start take every queue."""

import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from portal import routing
from portal.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _our_tasks() -> set[str]:
    app.loader.import_default_modules()  # every app's tasks module registers its tasks
    return {name for name in app.tasks if name.split(".")[1:2] == ["tasks"]}  # not Celery's, not the tests'


def _queues_option(argv: list[str]) -> set[str]:
    option = "--queues" if "--queues" in argv else "-Q"
    assert option in argv, f"{argv}: a worker names its queues"
    return set(argv[argv.index(option) + 1].split(","))


def test_every_task_has_a_queue_of_its_kind():
    unrouted = sorted(_our_tasks() - set(routing.ROUTES))
    assert not unrouted, f"add a line to portal/routing.py ROUTES for {unrouted} (which queue must it wait in?)"
    assert set(routing.ROUTES.values()) <= set(routing.QUEUES)
    assert not set(routing.ROUTES) - _our_tasks(), "ROUTES names a task that does not exist"


@pytest.mark.parametrize(("task", "queue"), [
    ("audit.tasks.cloudtrail_poll", "intake"),
    ("audit.tasks.cloudtrail_ingest_file", "files"),
    ("remediation.tasks.action_chain", "remediation"),
    ("audit.tasks.recorder_events_run", "intake"),  # what new writes touched: a fix waits on it
    ("audit.tasks.recorder_run", "recorder"),  # a full scan
    ("catalog.tasks.launch_provision", "launches"),
    ("no.such.task", "celery"),  # sent by name before its line exists: the rest
])
def test_a_task_sent_by_name_goes_to_its_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_beat_sends_each_periodic_task_to_a_queue_a_worker_takes():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert routing.queue_of(entry["task"]) in routing.FAST_QUEUES + routing.BULK_QUEUES


def test_the_fast_and_the_bulk_worker_share_every_queue_between_them():
    assert set(routing.FAST_QUEUES) | set(routing.BULK_QUEUES) == set(routing.QUEUES)
    assert not set(routing.FAST_QUEUES) & set(routing.BULK_QUEUES)
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == set(routing.QUEUES)


def test_make_run_and_docker_compose_start_a_worker_for_each_group():
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for group in ("fast", "bulk"):
        wanted = set(routing.worker_queues(group).split(","))
        assert _queues_option(shlex.split(procfile[f"worker-{group}"])) == wanted, f"Procfile worker-{group}"
        assert _queues_option(compose[f"worker-{group}"]["command"]) == wanted, f"docker-compose.yml worker-{group}"
