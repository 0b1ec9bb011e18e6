"""PostgreSQL stopped and started again under load, on the production shape (docker-compose.yml's services).

A private PostgreSQL cluster (initdb into a temporary directory, a port of its own: the machine's shared server
is never touched) holds the stack's database. While CloudTrail files are being ingested, daisy's launch is under
way and her open port 22 is being handled, the server is stopped (`pg_ctl stop -m fast`: every session cut) for
10 s; a launch asked for meanwhile is refused (5xx) and not recorded; then it starts again and more work follows.
Tasks that failed halfway left rows in flight (a file INGESTING, a recorder run or an action run RUNNING, a
launch without its stack's id) or lost their message; after the reconcilers' turn (faults.py `settle`) every
launch, file and action is at its true end, each record and each trigger stored once.
"""

import secrets
import time

import pytest

from tests.integration.faults import (
    PrivatePostgres,
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
FILES, RECORDS = 6, 8_000
OUTAGE_SECONDS = 10


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    if PrivatePostgres.available():
        pytest.skip(f"no private PostgreSQL cluster here: {PrivatePostgres.available()}")
    postgres = PrivatePostgres()
    try:
        postgres.start()
        with fault_stack(tmp_path_factory.mktemp("faults-postgres"), "faults_postgres", postgres=postgres) as (
                stack, _, _):
            yield stack, postgres
    finally:
        postgres.destroy()


def _files(stack, status: str) -> int:
    return trail_files_status(stack, "pgbefore", "pgafter").get(status, 0)

def _open_port_22(ec2) -> str:
    group = ec2.create_security_group(GroupName=f"pg-{secrets.token_hex(3)}", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    return group


def test_postgres_stopped_and_started_again(broken):
    stack, postgres = broken
    daisy, adam = stack.api("daisy"), stack.api("adam")
    ec2 = person_client(stack, "daisy", "ec2")
    put_trail_files(stack, MANAGEMENT, "pgbefore", FILES, RECORDS)
    stack.wait(lambda: _files(stack, "INGESTING"), timeout=60, what="files being ingested")
    launches = [lamp_launch(daisy, "pg-before")]
    groups = [_open_port_22(ec2)]
    cut = {"files ingesting": _files(stack, "INGESTING"), "files waiting": _files(stack, "PENDING"),
           "launch": stack.sql("SELECT status, stack_id FROM catalog_launchrequest WHERE id = %s", launches[0])}
    postgres.stop("fast")
    down = time.monotonic()
    refused = daisy.post("/api/launches/", {"product": 1, "version": 1, "name": "pg-down", "parameters": {}})
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
    postgres.start()
    print(f"in flight when PostgreSQL stopped: {cut}; a launch asked for meanwhile: {refused.status_code}")
    assert refused.status_code >= 500

    launches.append(lamp_launch(daisy, "pg-after"))
    groups.append(_open_port_22(ec2))
    put_trail_files(stack, MANAGEMENT, "pgafter", 2, RECORDS)

    settle(stack, timeout=180)
    assert stack.sql("SELECT count(*) FROM catalog_launchrequest WHERE name = 'pg-down'") == [(0,)]
    for launch_id in launches:
        launch = launch_ended(daisy, launch_id)
        assert launch["status"] == "SUCCEEDED", (launch["name"], launch["status_reason"])
        made = [s["StackId"] for s in portal_client(stack, "cloudformation", PAYMENTS).describe_stacks()["Stacks"]
                if s["StackName"] == f"{launch['name']}-{launch_id}"]
        assert made == [launch["stack_id"]]
    assert trail_files_status(stack, "pgbefore", "pgafter") == {"DONE": FILES + 2}
    assert trail_events(stack, "pgbefore", "pgafter") == (FILES + 2) * RECORDS
    chain = "SELECT action, status FROM remediation_actionrun WHERE resource_id = %s AND mode = 'enforce' ORDER BY step"
    ec2_portal = portal_client(stack, "ec2", PAYMENTS)
    for group in groups:
        stack.wait(lambda group=group: stack.sql(chain, group) == [("revoke_world_ingress", "SUCCEEDED"),
                                                                   ("notify", "SUCCEEDED")],
                   timeout=60, what=f"{group} remediated")
        described = ec2_portal.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
        assert world_ssh(described["IpPermissions"]) == []
        assert adam.get("/api/events/", event_name="AuthorizeSecurityGroupIngress", resource_id=group)["count"] == 1
    assert duplicates(stack) == []
