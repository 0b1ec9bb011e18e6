"""Celery signals: the request id travels in each task's headers, and every periodic task's run becomes a row.

Published: the current request id goes into the message headers. Run: it is restored for the task's lifetime
(a task that nothing with an id queued, such as a beat tick, starts its own chain with its task id), so the
tasks it queues carry it on. Periodic tasks (those in CELERY_BEAT_SCHEDULE) are timed and written at the end.
"""

import logging
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime

from celery import signals
from django.conf import settings
from django.utils import timezone

from ops import services
from portal.request_id import current_task, request_id, request_id_clean

logger = logging.getLogger(__name__)
HEADER = "request_id"


@dataclass
class _Running:
    tokens: tuple = ()
    started: datetime = field(default_factory=timezone.now)
    clock: float = field(default_factory=time.monotonic)
    error: str = ""


# Task id → what its prerun set up. Prerun and postrun of one task run in the same thread.
_running: dict[str, _Running] = {}


def periodic_task_names() -> set[str]:
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def _header_id(request) -> str | None:
    """Custom headers are attributes of a worker's request; an eager apply(headers=...) nests them."""
    return request_id_clean(getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER))


def task_published(headers: dict | None = None, **kwargs) -> None:
    rid = request_id.get()
    if rid and headers is not None and not headers.get(HEADER):
        headers[HEADER] = rid


def task_started(task_id: str, task, **kwargs) -> None:
    inherited = request_id.get() if task.request.is_eager else None  # eager: the caller's context is ours
    rid = _header_id(task.request) or inherited or task_id
    _running[task_id] = _Running(tokens=(request_id.set(rid), current_task.set((task_id, task.name))))


def task_failed(task_id: str, exception: BaseException | None = None, **kwargs) -> None:
    if running := _running.get(task_id):
        running.error = f"{type(exception).__name__}: {exception}"


def task_finished(task_id: str, task, state: str | None = None, **kwargs) -> None:
    running = _running.pop(task_id, None)
    if running is None:
        return
    in_flight = sys.exc_info()[1]  # an eager task that propagates its error sends no task_failure
    if state != "SUCCESS" and not running.error and in_flight is not None:
        running.error = f"{type(in_flight).__name__}: {in_flight}"
    try:
        if task.name in periodic_task_names():
            _record(task, running, state)
    except Exception:  # noqa: BLE001 — recording a run must never fail the task
        logger.exception("could not record the run of %s", task.name)
    finally:
        _restore(running.tokens)


def _restore(tokens: tuple) -> None:
    """Back to what the caller had (an eager task's caller keeps its request id); empty if the pool switched
    contexts between prerun and postrun."""
    for var, token in zip((request_id, current_task), tokens, strict=True):
        try:
            var.reset(token)
        except ValueError:
            var.set(None)


def _record(task, running: _Running, state: str | None) -> None:
    succeeded = state == "SUCCESS"
    services.task_run_record(
        task=task.name, task_id=task.request.id or "", request_id=request_id.get() or "",
        started=running.started, duration=time.monotonic() - running.clock, succeeded=succeeded,
        error="" if succeeded else (running.error or f"ended in state {state}"),
        hostname=task.request.hostname or socket.gethostname(),
    )


def connect() -> None:
    signals.before_task_publish.connect(task_published, dispatch_uid="ops-request-id-publish", weak=False)
    signals.task_prerun.connect(task_started, dispatch_uid="ops-task-started", weak=False)
    signals.task_failure.connect(task_failed, dispatch_uid="ops-task-failed", weak=False)
    signals.task_postrun.connect(task_finished, dispatch_uid="ops-task-finished", weak=False)
