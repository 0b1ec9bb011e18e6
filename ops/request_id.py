"""The id of the request (or of the task chain) the current code runs for, kept in context variables.

A request takes a sane X-Request-ID from its caller or makes one; a task takes the id of whatever queued it
(see ops.task_signals), so one id ties a page's log lines to those of the tasks it queued.
"""

import re
import uuid
from contextvars import ContextVar

SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# (task id, task name) while a Celery task runs in this context.
current_task: ContextVar[tuple[str, str] | None] = ContextVar("current_task", default=None)


def request_id_clean(value: str | None) -> str | None:
    """The caller's id if it is safe to log and echo (≤ 64 characters of [A-Za-z0-9._-]), else None."""
    return value if value and SANE.fullmatch(value) else None


def request_id_new() -> str:
    return uuid.uuid4().hex

