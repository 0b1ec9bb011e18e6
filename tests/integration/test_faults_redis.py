"""Redis, the broker, killed and restarted empty, on the production shape (docker-compose.yml's services).

A private redis-server without persistence (as a crashed or recreated Redis comes back): killed while a backlog
waits in it (CloudTrail files, daisy's launch, the work her open port 22 starts), down for 10 s while daisy
launches again (the API still answers 201: the launch is recorded, its message is sent by the reconciler), then
started again, empty; then more work. The workers, beat and gunicorn reconnect by themselves. Everything queued
before, during and after reaches its end: the messages Redis lost are sent again from the database rows
(launches, files, recorder runs, action runs, violations) by the reconcilers (faults.py `settle`).
"""

import secrets
import time

import pytest
import redis

from tests.integration.faults import (
    duplicates,
    fault_stack,
    put_trail_files,
    settle,
    trail_events,
    trail_files_status,
)
from tests.integration.stack import (
    lamp_launch,
    launch_ended,
    person_client,
    portal_client,
    world_ssh,
)

pytestmark = pytest.mark.integration
PAYMENTS, MANAGEMENT = "111111111111", "123456789012"
FILES, RECORDS = 24, 3_000
OUTAGE_SECONDS = 10


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    with fault_stack(tmp_path_factory.mktemp("faults-redis"), "faults_redis") as (stack, _, broker):
        yield stack, broker


def _files(stack, status: str) -> int:
    return trail_files_status(stack, "redisbefore", "redisafter").get(status, 0)

def _open_port_22(ec2) -> str:
    group = ec2.create_security_group(GroupName=f"redis-{secrets.token_hex(3)}", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    return group


def test_redis_restarted_empty(broken):
    stack, broker = broken
    daisy, adam = stack.api("daisy"), stack.api("adam")
    ec2 = person_client(stack, "daisy", "ec2")
    put_trail_files(stack, MANAGEMENT, "redisbefore", FILES, RECORDS)
    stack.wait(lambda: _files(stack, "DONE") and _files(stack, "PENDING") >= FILES // 2, timeout=60,
               what="a backlog of files waiting in Redis")
    launches = [lamp_launch(daisy, "redis-before")]
    groups = [_open_port_22(ec2)]
    queued = redis.Redis(port=broker.port).llen("celery")
    broker.kill()
    lost = {"messages": queued, "files waiting": _files(stack, "PENDING"), "files ingesting": _files(stack, "INGESTING")}
    down = time.monotonic()
    launches.append(lamp_launch(daisy, "redis-down"))  # recorded; its message waits for the reconciler
    time.sleep(OUTAGE_SECONDS - (time.monotonic() - down))
    broker.start()  # without persistence: whatever was queued is gone
    print(f"lost with Redis: {lost}")

    launches.append(lamp_launch(daisy, "redis-after"))
    groups.append(_open_port_22(ec2))
    put_trail_files(stack, MANAGEMENT, "redisafter", 2, RECORDS)

    settle(stack, timeout=180)
    for launch_id in launches:
        launch = launch_ended(daisy, launch_id)
        assert launch["status"] == "SUCCEEDED", (launch["name"], launch["status_reason"])
    assert trail_files_status(stack, "redisbefore", "redisafter") == {"DONE": FILES + 2}
    assert trail_events(stack, "redisbefore", "redisafter") == (FILES + 2) * RECORDS
    chain = "SELECT action, status FROM remediation_actionrun WHERE resource_id = %s AND mode = 'enforce' ORDER BY step"
    ec2_portal = portal_client(stack, "ec2", PAYMENTS)
    for group in groups:
        stack.wait(lambda group=group: stack.sql(chain, group) == [("revoke_world_ingress", "SUCCEEDED"),
                                                                   ("notify", "SUCCEEDED")],
                   timeout=60, what=f"{group} remediated: {stack.sql(chain, group)}")
        described = ec2_portal.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
        assert world_ssh(described["IpPermissions"]) == []
        assert adam.get("/api/events/", event_name="AuthorizeSecurityGroupIngress", resource_id=group)["count"] == 1
    assert duplicates(stack) == []
