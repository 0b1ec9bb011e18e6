"""The AWS endpoint down and back while work is in flight, on the production shape (docker-compose.yml's services).

Four large CloudTrail files are being ingested, daisy's launch has sent its CreateStack (CloudFormation made the
stack; the answer is held back) and her open port 22 has brought the seeded policy to its RevokeSecurityGroupIngress
(carried out; the answer lost) when the endpoint goes down: every connection cut, new ones refused, for 20 s.
Then it comes back and the reconcilers have their turn (faults.py `settle`). Every launch, file and action must
reach its true end: the launch adopts the one stack that was made, every file is DONE with each record stored
once (none quarantined: the file was never at fault), the revoke is SUCCEEDED without being made a second time.
"""

import secrets
import time

import pytest

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
FILES, RECORDS = 4, 20_000
OUTAGE_SECONDS = 20


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    with fault_stack(tmp_path_factory.mktemp("faults-aws"), "faults_aws") as (stack, proxy, _):
        yield stack, proxy


def _files(stack, status: str) -> int:
    return trail_files_status(stack, "awsdown").get(status, 0)

def test_the_aws_endpoint_down_and_back(broken):
    stack, proxy = broken
    daisy, adam = stack.api("daisy"), stack.api("adam")
    ec2 = person_client(stack, "daisy", "ec2")
    proxy.lose_answer(b"Action=CreateStack", b"Action=RevokeSecurityGroupIngress", then_down=True)
    launch_id = lamp_launch(daisy, "aws-down")
    group = ec2.create_security_group(GroupName=f"aws-down-{secrets.token_hex(3)}", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    put_trail_files(stack, MANAGEMENT, "awsdown", FILES, RECORDS)
    stack.wait(proxy.tripped.is_set, timeout=120, what="CreateStack and RevokeSecurityGroupIngress sent, then down")
    down = time.monotonic()
    in_flight = {"files ingesting": _files(stack, "INGESTING"), "files done": _files(stack, "DONE"),
                 "launch": stack.sql("SELECT status, stack_id FROM catalog_launchrequest WHERE id = %s", launch_id)}
    time.sleep(OUTAGE_SECONDS - (time.monotonic() - down))
    proxy.up()
    print(f"in flight when AWS went down: {in_flight}")

    settle(stack, timeout=180)
    launch = launch_ended(daisy, launch_id)
    assert launch["status"] == "SUCCEEDED", launch["status_reason"]
    made = [s["StackId"] for s in portal_client(stack, "cloudformation", PAYMENTS).describe_stacks()["Stacks"]
            if s["StackName"] == f"aws-down-{launch_id}"]
    assert made == [launch["stack_id"]]

    files = stack.sql("SELECT status, records + duplicates FROM audit_logfile WHERE key ~ %s",
                      "_awsdown[0-9]+[.]json[.]gz$")
    assert files == [("DONE", RECORDS)] * FILES, files
    assert stack.sql("SELECT count(*) FROM audit_logfile WHERE status = 'QUARANTINED'") == [(0,)]
    assert trail_events(stack, "awsdown") == FILES * RECORDS

    chain = "SELECT action, status FROM remediation_actionrun WHERE resource_id = %s AND mode = 'enforce' ORDER BY step"
    assert stack.sql(chain, group) == [("revoke_world_ingress", "SUCCEEDED"), ("notify", "SUCCEEDED")]
    [run] = adam.get("/api/actions/", resource_id=group, action="revoke_world_ingress", status="SUCCEEDED")["results"]
    assert "checked again after AWS could not be reached" in run["outcome"]["message"], run
    described = portal_client(stack, "ec2", PAYMENTS).describe_security_groups(GroupIds=[group])
    assert world_ssh(described["SecurityGroups"][0]["IpPermissions"]) == []
    ec2.create_tags(Resources=[group], Tags=[{"Key": "checked", "Value": "yes"}])  # marks how far CloudTrail got
    stack.wait(lambda: adam.get("/api/events/", event_name="CreateTags", resource_id=group)["count"], timeout=90,
               what="daisy's later CreateTags ingested")
    assert adam.get("/api/events/", event_name="RevokeSecurityGroupIngress", resource_id=group)["count"] == 1
    settle(stack)
    assert duplicates(stack) == []
