"""A worker SIGKILLed mid-launch and mid-remediation, on the production shape (docker-compose.yml's services).

The proxy between the portal and the sandbox AWS lets the call through (AWS carries it out) and loses its answer,
so the worker is caught waiting inside it; that worker is then killed, process group and all (no warm shutdown,
no message acknowledged). The launch is left IN_PROGRESS without its stack's id, the revoke RUNNING. After the
reconcilers have had their turn (tests/integration/faults.py `settle`), the launch has adopted the one stack
CloudFormation made, and the run is SUCCEEDED from what the group now looks like, without a second revoke.
(A worker killed mid-ingest: test_ingest_worker_killed.py.)
"""

import pytest

from tests.integration.faults import (
    REMEDIATED,
    action_chain,
    duplicates,
    launch_row,
    launch_succeeded,
    open_port_22,
    revoke_succeeded,
    revokes_in_cloudtrail,
    settle,
    stacks_named,
    worker_holding,
    world_ssh_left,
)
from tests.integration.stack import lamp_launch, person_client

pytestmark = pytest.mark.integration


def _kill_the_worker_waiting(stack, proxy, what: str):
    assert proxy.tripped.wait(120), f"no {what} went through the proxy\n" + "\n".join(
        p.tail() for p in stack.processes.values())
    worker = worker_holding(stack, proxy.tripped_peer)
    worker.kill()
    return worker


def test_a_worker_killed_mid_launch(broken):
    stack, proxy, _ = broken
    daisy = stack.api("daisy")
    proxy.lose_answer(b"Action=CreateStack")
    launch_id = lamp_launch(daisy, "killed-mid-launch")
    worker = _kill_the_worker_waiting(stack, proxy, "CreateStack")
    assert launch_row(stack, launch_id) == [("IN_PROGRESS", "")]
    stack.worker_start(worker.name)
    stack.wait_worker_ready(worker.name)

    settle(stack)
    launch = launch_succeeded(daisy, launch_id)
    assert stacks_named(stack, f"killed-mid-launch-{launch_id}") == [launch["stack_id"]]
    assert [e["status"] for e in launch["events"]] == ["CREATED", "IN_PROGRESS", "SUCCEEDED"]
    assert duplicates(stack) == []


def test_a_worker_killed_mid_remediation(broken):
    stack, proxy, _ = broken
    adam = stack.api("adam")
    proxy.lose_answer(b"Action=RevokeSecurityGroupIngress")
    ec2 = person_client(stack, "daisy", "ec2")
    group = open_port_22(ec2, "killed")
    worker = _kill_the_worker_waiting(stack, proxy, "RevokeSecurityGroupIngress")
    assert action_chain(stack, group) == [("revoke_world_ingress", "RUNNING"), ("notify", "PENDING")]
    assert world_ssh_left(stack, group) == []  # the revoke went through
    stack.worker_start(worker.name)
    stack.wait_worker_ready(worker.name)

    settle(stack)
    assert action_chain(stack, group) == REMEDIATED
    run = revoke_succeeded(adam, group)
    assert "checked again after the worker running it stopped" in run["outcome"]["message"], run
    # Only the dead worker's revoke reached AWS: CloudTrail has one.
    assert revokes_in_cloudtrail(stack, adam, ec2, group, timeout=60) == 1
    settle(stack)
    assert duplicates(stack) == []
