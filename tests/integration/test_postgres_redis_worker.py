import time

import pytest
from django.db import connection

from portal import routing

from portal.celery import app as celery_app
from portal.models import Heartbeat
from portal.tasks import worker_heartbeat
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def test_it_runs_a_task_on_a_real_worker_over_redis(celery_worker_process):
    assert celery_app.conf.broker_url.startswith("redis://")
    worker_heartbeat.delay()
    beat = wait_for(lambda: Heartbeat.objects.filter(name="worker").first(), timeout=60)
    assert beat is not None, "no heartbeat from the worker"
    assert celery_worker_process.poll() is None


def test_it_reports_postgresql_and_redis_in_healthz(client, transactional_db):
    report = client.get("/healthz").json()
    assert report["checks"]["database"] == {**report["checks"]["database"], "ok": True, "detail": "postgresql"}
    assert report["checks"]["broker"]["ok"] is True
    assert report["checks"]["broker"]["detail"] == "redis"


def test_it_migrates_and_seeds_on_postgresql(people):
    assert connection.vendor == "postgresql"
    from portal.demo import demo_seed

    assert demo_seed() == {"people": 4, "teams": 3, "accounts": 3}


def test_it_reports_each_redis_queues_depth_and_oldest_message(transactional_db):
    """Messages wait in a Redis list named after their queue; the oldest one's age is its publish stamp's."""
    from ops import selectors

    with celery_app.connection_for_write() as conn:
        for queue in routing.QUEUES:
            conn.default_channel.queue_purge(queue)
    first = time.time()
    celery_app.send_task("audit.tasks.cloudtrail_ingest_file", args=["1", "b", "k1"])
    time.sleep(1.0)
    celery_app.send_task("audit.tasks.cloudtrail_ingest_file", args=["1", "b", "k2"])
    celery_app.send_task("remediation.tasks.action_chain", args=[1])
    try:
        states = selectors.queue_states()
        assert {q: s.depth for q, s in states.items() if s.depth} == {"files": 2, "remediation": 1}
        assert time.time() - first + 0.1 >= states["files"].oldest_seconds >= 1.0  # the first one's
        assert states["remediation"].oldest_seconds < 0.5
        assert states["intake"].oldest_seconds is None
    finally:
        with celery_app.connection_for_write() as conn:
            for queue in ("files", "remediation"):
                conn.default_channel.queue_purge(queue)
