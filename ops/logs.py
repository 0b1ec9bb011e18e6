"""Log records carry the request id (and in a task its id and name); LOG_FORMAT=json writes one object a line.

Imported by the LOGGING dict before Django's apps are ready: no model imports here.
"""

import json
import logging
from datetime import UTC, datetime

from portal.request_id import current_task, request_id


class RequestIdFilter(logging.Filter):
    """Puts request_id, task_id and task_name on every record ("" outside a request or task), and request_tag
    (" [<request id>]" or "") for the plain format."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task.get()
        record.request_id = request_id.get() or ""
        record.request_tag = f" [{record.request_id}]" if record.request_id else ""
        record.task_id, record.task_name = task or ("", "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the ids when set, the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id", "task_name"):
            if value := getattr(record, key, ""):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def celery_handlers_adopt(logger: logging.Logger) -> None:
    """Celery's worker and beat set up their own handlers: give them the filter, and the JSON format if asked."""
    from django.conf import settings

    for handler in logger.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if getattr(settings, "LOG_FORMAT", "plain") == "json":
            handler.setFormatter(JsonFormatter())
