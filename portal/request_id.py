"""The id of the request (or of the task chain) the current code runs for, kept in context variables.

A request takes a sane X-Request-ID from its caller or makes one (ops.middleware); a task takes the id of whatever
queued it (ops.task_signals), so one id ties a page's log lines, its tasks' lines and its change-log records together.
Kept in portal, the lowest app, so every app's history records can read it without importing ops.
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

