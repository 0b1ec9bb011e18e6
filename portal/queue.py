"""One way to enqueue: a Celery task sent by name, once the current transaction commits.

Services call `enqueue("app.tasks.name", id)`; they never import tasks (the tasks import the services), and views
and serializers never enqueue. Work already outside any transaction (a poller, a worker handing on its next step)
may `send` at once. The task is looked up in the Celery app's registry, so eager runs (unit tests, `make run`
without a broker) take it in process. The broker away is logged, not raised: the row waits, and portal.runs'
reconciler sends it again.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerAway

log = logging.getLogger(__name__)


def task_delay(task_name: str, *args: Any, countdown: float | None = None, **kwargs: Any) -> None:
    """Send it now; the broker's refusal (kombu's OperationalError) is raised."""
    import_module(task_name.rpartition(".")[0])  # the task's module registers it (autodiscovery is lazy)
    task = current_app.tasks[task_name]
    if countdown is None:
        task.delay(*args, **kwargs)  # .delay, not send_task: in-process (eager) runs take it too
    else:
        task.apply_async(args, countdown=countdown, **({"kwargs": kwargs} if kwargs else {}))


def send(task_name: str, *args: Any, **kwargs: Any) -> bool:
    """Send it now; False when the broker is away (the row stays waiting and the reconciler sends it again)."""
    try:
        task_delay(task_name, *args, **kwargs)
    except BrokerAway as exc:
        log.warning("%s%r not queued: the broker is away (%s); the reconciler sends it again", task_name, args, exc)
        return False
    return True


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> None:
    """`task_name(*args, **kwargs)` sent once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send(task_name, *args, **kwargs))


def enqueue_each(task_name: str, ids: list[int]) -> None:
    """One message per id, after the commit."""
    enqueue_in_order([(task_name, pk) for pk in ids])


def enqueue_in_order(messages: list[tuple[str, int]]) -> None:
    """(task, id) messages sent in this order after the commit; the first refusal stops the rest (they wait for
    the reconciler)."""
    messages = list(messages)
    if messages:
        transaction.on_commit(lambda: all(send(task, pk) for task, pk in messages))
