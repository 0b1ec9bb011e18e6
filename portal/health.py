"""What /healthz reports: each dependency checked for real, with how long it took."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from portal import aws
from portal.celery import app as celery_app
from portal.selectors import heartbeat_get

HEARTBEAT_STALE_AFTER = timedelta(minutes=2)


def _timed(check: Callable[[], str]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        detail, ok = check(), True
    except Exception as exc:  # noqa: BLE001 — a health check reports any failure, it never raises
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return {"ok": ok, "detail": detail, "ms": round((time.monotonic() - started) * 1000, 1)}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        return conn.transport.driver_type  # redis, filesystem (the embedded one's folder per queue too), memory


def _aws() -> str:
    identity = aws.endpoint_check()
    return f"{identity['arn']}"


def _worker() -> str:
    beat = heartbeat_get(name="worker")
    if beat is None:
        raise RuntimeError("no heartbeat from a worker yet")
    age = timezone.now() - beat.last_seen
    if age > HEARTBEAT_STALE_AFTER:
        raise RuntimeError(f"last heartbeat {int(age.total_seconds())} s ago")
    return f"last heartbeat {int(age.total_seconds())} s ago"


REQUIRED = {"database": _database, "broker": _broker, "aws": _aws}
INFORMATIONAL = {"worker": _worker}


def health_report() -> dict[str, Any]:
    checks = {name: _timed(check) for name, check in REQUIRED.items()}
    info = {name: _timed(check) for name, check in INFORMATIONAL.items()}
    return {
        "status": "ok" if all(c["ok"] for c in checks.values()) else "failing",
        "checks": checks,
        "info": info,
        "time": timezone.now().isoformat(),
    }
