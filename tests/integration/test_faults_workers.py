"""A worker SIGKILLed mid-launch and mid-remediation, on the production shape (docker-compose.yml's services).

The proxy between the portal and the sandbox AWS lets the call through (AWS carries it out) and loses its answer,
so the worker is caught waiting inside it; that worker is then killed, process group and all (no warm shutdown,
no message acknowledged). The launch is left IN_PROGRESS without its stack's id, the revoke RUNNING. After the
reconcilers have had their turn (tests/integration/faults.py `settle`), the launch has adopted the one stack
CloudFormation made, and the run is SUCCEEDED from what the group now looks like, without a second revoke.
(A worker killed mid-ingest: test_ingest_worker_killed.py.)
"""

import secrets

import pytest

from tests.integration.faults import duplicates, fault_stack, settle, worker_holding
from tests.integration.stack import (
    lamp_launch,
    launch_ended,
    person_client,
    portal_client,
    world_ssh,
)

pytestmark = pytest.mark.integration
PAYMENTS = "111111111111"


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    with fault_stack(tmp_path_factory.mktemp("faults-workers"), "faults_workers") as (stack, proxy, _):
        yield stack, proxy


def _kill_the_worker_waiting(stack, proxy, what: str):
    assert proxy.tripped.wait(120), f"no {what} went through the proxy\n" + "\n".join(
        p.tail() for p in stack.processes.values())
    worker = worker_holding(stack, proxy.tripped_peer)
    worker.kill()
    return worker


def test_a_worker_killed_mid_launch(broken):
    stack, proxy = broken
    daisy = stack.api("daisy")
    proxy.lose_answer(b"Action=CreateStack")
    launch_id = lamp_launch(daisy, "killed-mid-launch")
    worker = _kill_the_worker_waiting(stack, proxy, "CreateStack")
    assert stack.sql("SELECT status, stack_id FROM catalog_launchrequest WHERE id = %s", launch_id) == [
        ("IN_PROGRESS", "")]
    stack.worker_start(worker.name)
    stack.wait_worker_ready(worker.name)

    settle(stack)
    launch = launch_ended(daisy, launch_id)
    assert launch["status"] == "SUCCEEDED", launch["status_reason"]
    made = [s["StackId"] for s in portal_client(stack, "cloudformation", PAYMENTS).describe_stacks()["Stacks"]
            if s["StackName"] == f"killed-mid-launch-{launch_id}"]
    assert made == [launch["stack_id"]]
    assert [e["status"] for e in launch["events"]] == ["CREATED", "IN_PROGRESS", "SUCCEEDED"]
    assert duplicates(stack) == []


def test_a_worker_killed_mid_remediation(broken):
    stack, proxy = broken
    adam = stack.api("adam")
    proxy.lose_answer(b"Action=RevokeSecurityGroupIngress")
    ec2 = person_client(stack, "daisy", "ec2")
    group = ec2.create_security_group(GroupName=f"killed-{secrets.token_hex(3)}", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    worker = _kill_the_worker_waiting(stack, proxy, "RevokeSecurityGroupIngress")
    chain = "SELECT action, status FROM remediation_actionrun WHERE resource_id = %s AND mode = 'enforce' ORDER BY step"
    assert stack.sql(chain, group) == [("revoke_world_ingress", "RUNNING"), ("notify", "PENDING")]
    described = portal_client(stack, "ec2", PAYMENTS).describe_security_groups(GroupIds=[group])
    assert world_ssh(described["SecurityGroups"][0]["IpPermissions"]) == []  # the revoke went through
    stack.worker_start(worker.name)
    stack.wait_worker_ready(worker.name)

    settle(stack)
    assert stack.sql(chain, group) == [("revoke_world_ingress", "SUCCEEDED"), ("notify", "SUCCEEDED")]
    [run] = adam.get("/api/actions/", resource_id=group, action="revoke_world_ingress", status="SUCCEEDED")["results"]
    assert "checked again after the worker running it stopped" in run["outcome"]["message"], run
    # Only the dead worker's revoke reached AWS: CloudTrail has one (a later call of daisy's marks how far it got).
    ec2.create_tags(Resources=[group], Tags=[{"Key": "checked", "Value": "yes"}])
    stack.wait(lambda: adam.get("/api/events/", event_name="CreateTags", resource_id=group)["count"], timeout=60,
               what="daisy's later CreateTags ingested")
    assert adam.get("/api/events/", event_name="RevokeSecurityGroupIngress", resource_id=group)["count"] == 1
    settle(stack)
    assert duplicates(stack) == []
