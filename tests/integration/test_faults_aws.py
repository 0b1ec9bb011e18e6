"""The AWS endpoint down and back while work is in flight, on the production shape (docker-compose.yml's services).

Four large CloudTrail files are being ingested, daisy's launch has sent its CreateStack (CloudFormation made the
stack; the answer is held back) and her open port 22 has brought the seeded policy to its RevokeSecurityGroupIngress
(carried out; the answer lost) when the endpoint goes down: every connection cut, new ones refused, for 20 s.
Then it comes back and the reconcilers have their turn (faults.py `settle`). Every launch, file and action must
reach its true end: the launch adopts the one stack that was made, every file is DONE with each record stored
once (none quarantined: the file was never at fault), the revoke is SUCCEEDED without being made a second time.
"""

import time

import pytest

from tests.integration.faults import (
    MANAGEMENT,
    REMEDIATED,
    action_chain,
    duplicates,
    launch_row,
    launch_succeeded,
    open_port_22,
    put_trail_files,
    revoke_succeeded,
    revokes_in_cloudtrail,
    settle,
    stacks_named,
    trail_events,
    trail_files_in,
    world_ssh_left,
)
from tests.integration.stack import lamp_launch, person_client

pytestmark = pytest.mark.integration
FILES, RECORDS = 4, 20_000
OUTAGE_SECONDS = 20


def test_the_aws_endpoint_down_and_back(broken):
    stack, proxy, _ = broken
    daisy, adam = stack.api("daisy"), stack.api("adam")
    ec2 = person_client(stack, "daisy", "ec2")
    proxy.lose_answer(b"Action=CreateStack", b"Action=RevokeSecurityGroupIngress", then_down=True)
    launch_id = lamp_launch(daisy, "aws-down")
    group = open_port_22(ec2, "aws-down")
    put_trail_files(stack, MANAGEMENT, "awsdown", FILES, RECORDS)
    stack.wait(proxy.tripped.is_set, timeout=120, what="CreateStack and RevokeSecurityGroupIngress sent, then down")
    down = time.monotonic()
    in_flight = {"files ingesting": trail_files_in(stack, "INGESTING", "awsdown"),
                 "files done": trail_files_in(stack, "DONE", "awsdown"), "launch": launch_row(stack, launch_id)}
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
    proxy.up()
    print(f"in flight when AWS went down: {in_flight}")

    settle(stack, timeout=180)
    launch = launch_succeeded(daisy, launch_id)
    assert stacks_named(stack, f"aws-down-{launch_id}") == [launch["stack_id"]]

    files = stack.sql("SELECT status, records + duplicates FROM audit_logfile WHERE key ~ %s",
                      "_awsdown[0-9]+[.]json[.]gz$")
    assert files == [("DONE", RECORDS)] * FILES, files
    assert stack.sql("SELECT count(*) FROM audit_logfile WHERE status = 'QUARANTINED'") == [(0,)]
    assert trail_events(stack, "awsdown") == FILES * RECORDS

    assert action_chain(stack, group) == REMEDIATED
    run = revoke_succeeded(adam, group)
    assert "checked again after AWS could not be reached" in run["outcome"]["message"], run
    assert world_ssh_left(stack, group) == []
    assert revokes_in_cloudtrail(stack, adam, ec2, group, timeout=90) == 1
    settle(stack)
    assert duplicates(stack) == []
