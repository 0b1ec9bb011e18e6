"""Redis, the broker, killed and restarted empty, on the production shape (docker-compose.yml's services).

A private redis-server without persistence (as a crashed or recreated Redis comes back): killed while a backlog
waits in it (CloudTrail files, daisy's launch, the work her open port 22 starts), down for 10 s while daisy
launches again (the API still answers 201: the launch is recorded, its message is sent by the reconciler), then
started again, empty; then more work. The workers, beat and gunicorn reconnect by themselves. Everything queued
before, during and after reaches its end: the messages Redis lost are sent again from the database rows
(launches, files, recorder runs, action runs, violations) by the reconcilers (faults.py `settle`).
"""

import time

import pytest
import redis

from portal import routing
from tests.integration.faults import (
    MANAGEMENT,
    assert_remediated,
    duplicates,
    launch_succeeded,
    open_port_22,
    put_trail_files,
    settle,
    trail_events,
    trail_files_in,
    trail_files_status,
)
from tests.integration.stack import lamp_launch, person_client

pytestmark = pytest.mark.integration
FILES, RECORDS = 24, 3_000
OUTAGE_SECONDS = 10


def _files(stack, status: str) -> int:
    return trail_files_in(stack, status, "redisbefore", "redisafter")


def test_redis_restarted_empty(broken):
    stack, _, broker = broken
    daisy, adam = stack.api("daisy"), stack.api("adam")
    ec2 = person_client(stack, "daisy", "ec2")
    put_trail_files(stack, MANAGEMENT, "redisbefore", FILES, RECORDS)
    stack.wait(lambda: _files(stack, "DONE") and _files(stack, "PENDING") >= FILES // 2, timeout=60,
               what="a backlog of files waiting in Redis")
    launches = [lamp_launch(daisy, "redis-before")]
    groups = [open_port_22(ec2, "redis")]
    queued = sum(redis.Redis(port=broker.port).llen(queue) for queue in routing.QUEUES)
    broker.kill()
    lost = {"messages": queued, "files waiting": _files(stack, "PENDING"), "files ingesting": _files(stack, "INGESTING")}
    down = time.monotonic()
    launches.append(lamp_launch(daisy, "redis-down"))  # recorded; its message waits for the reconciler
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
    broker.start()  # without persistence: whatever was queued is gone
    print(f"lost with Redis: {lost}")

    launches.append(lamp_launch(daisy, "redis-after"))
    groups.append(open_port_22(ec2, "redis"))
    put_trail_files(stack, MANAGEMENT, "redisafter", 2, RECORDS)

    settle(stack, timeout=180)
    for launch_id in launches:
        launch_succeeded(daisy, launch_id)
    assert trail_files_status(stack, "redisbefore", "redisafter") == {"DONE": FILES + 2}
    assert trail_events(stack, "redisbefore", "redisafter") == (FILES + 2) * RECORDS
    assert_remediated(stack, adam, groups)
    assert duplicates(stack) == []
