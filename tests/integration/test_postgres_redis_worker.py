import pytest
from django.db import connection

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
