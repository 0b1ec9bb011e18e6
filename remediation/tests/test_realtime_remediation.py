"""Remediation from the real-time path: Daisy opens port 22 to the world, EventBridge's copy of the call closes it
at once; the log file's copy, minutes later, changes nothing (one action run, not two)."""

import pytest

from audit.models import CloudTrailEvent
from audit.realtime import Consumer
from audit.tests.eventbridge import arrive, quiet, record_for
from portal import aws
from remediation.models import ActionRun
from sandbox.testing import deliver

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


def _world_open(group_id: str) -> bool:
    group = aws.client("ec2", account_id="111111111111").describe_security_groups(GroupIds=[group_id])
    return any(r["CidrIp"] == "0.0.0.0/0" for p in group["SecurityGroups"][0]["IpPermissions"]
               for r in p.get("IpRanges", []))


def _consume() -> Consumer:
    consumer = Consumer(wait_seconds=0)
    while consumer.poll_once():
        pass
    return consumer


def test_a_world_open_port_is_closed_from_eventbridges_copy_and_once_only(world, sandbox):
    quiet(sandbox)
    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    bucket = "guardrail-cloudtrail-111111111111"
    records = [record_for(sandbox, bucket, "CreateSecurityGroup", groupName="web"),
               record_for(sandbox, bucket, "AuthorizeSecurityGroupIngress", groupId=group)]
    arrive(sandbox)  # the sandbox's events of both calls, through the kit's rules
    _consume()
    assert CloudTrailEvent.objects.filter(event_id__in=[r["eventID"] for r in records], via="EVENTBRIDGE").count() == 2

    assert not _world_open(group)  # closed before any log file was read
    runs = ActionRun.objects.filter(action="revoke_world_ingress", resource_id=group, policy__name="open-ssh-revoke")
    assert [r.status for r in runs] == ["SUCCEEDED"]
    assert not CloudTrailEvent.objects.filter(event_id=records[1]["eventID"], log_file__isnull=False).exists()
    acted = sorted(ActionRun.objects.filter(resource_id=group).values_list("pk", "action", "status"))

    deliver(sandbox)  # the files: the same two events, and the revoke's own call
    assert CloudTrailEvent.objects.filter(event_id__in=[r["eventID"] for r in records], log_file__isnull=False).count() == 2
    assert runs.count() == 1
    assert sorted(ActionRun.objects.filter(resource_id=group).values_list("pk", "action", "status")) == acted
