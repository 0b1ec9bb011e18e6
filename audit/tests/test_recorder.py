"""The recorder on the sandbox: Daisy's own calls become configuration items with diffs and causes."""

import json

import pytest

from audit.selectors import event_configuration_links, related_resources, resource_timeline
from audit.models import CloudTrailEvent, ConfigResource, ItemStatus, RecorderRun, RecorderState
from audit.recorder import account_scan
from audit.tasks import cloudtrail_poll
from portal import aws
from portal.models import Account
from sandbox.testing import as_person, operator_clients

SG = "AWS::EC2::SecurityGroup"


@pytest.fixture
def world(people, sandbox):
    """The demo accounts bootstrapped in the sandbox, and boto3 clients acting as Daisy with her own keys."""
    from sandbox.bootstrap import bootstrap_from_portal

    bootstrap_from_portal()
    return Account.objects.get(account_id="111111111111"), as_person("daisy")


def _ingest(sandbox, django_capture_on_commit_callbacks) -> None:
    """Deliver the trail's files, ingest them, and let the recorder runs they start happen (eager tasks)."""
    sandbox.flush()
    with django_capture_on_commit_callbacks(execute=True):
        while cloudtrail_poll():
            pass


def test_daisys_widened_rule_is_on_the_timeline_with_her_call(clock, world, sandbox,
                                                               django_capture_on_commit_callbacks):
    account, as_daisy = world
    ec2 = as_daisy("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22,
                                         CidrIp="203.0.113.5/32")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                 SecurityGroupIds=[group])["Instances"][0]["InstanceId"]
    account_scan(account=account)
    resource = ConfigResource.objects.get(account_id=account.account_id, resource_type=SG, resource_id=group)
    assert resource.state_id == 1
    # A no-op: scanning again writes nothing.
    assert account_scan(account=account)["totals"]["updated"] == 0
    resource.refresh_from_db()
    assert resource.state_id == 1
    clock.advance(1)  # CloudTrail's eventTime has whole seconds: the change comes in a later one than the scan

    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    ec2.revoke_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22,
                                      CidrIp="203.0.113.5/32")
    _ingest(sandbox, django_capture_on_commit_callbacks)
    assert RecorderRun.objects.filter(kind="EVENTS", status="SUCCEEDED").exists()

    resource.refresh_from_db()
    assert resource.state_id == 2
    item = resource.items.get(state_id=2)
    assert item.cause == "EVENT" and item.change_type == "UPDATE"
    cidrs = [(c["before"], c["after"]) for c in item.diff if c["path"].endswith("cidrIp")]
    assert cidrs == [("203.0.113.5/32", "0.0.0.0/0")], item.diff
    [entry] = [e for e in resource_timeline(resource)[0] if e.item == item]
    [authorize] = [e for e in CloudTrailEvent.objects.filter(event_name="AuthorizeSecurityGroupIngress",
                                                             user_name="daisy") if "0.0.0.0/0" in json.dumps(e.raw)]
    assert authorize in entry.caused_by
    assert {e.event_name for e in entry.caused_by} >= {"AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"}
    # From the event, the link lands on the change it caused.
    assert event_configuration_links(authorize)[group] == (resource, item)
    # Which instances does this group expose?
    assert instance in [r["resource_id"] for r in related_resources(resource) if r["resource_type"] == "AWS::EC2::Instance"]


def test_deletion_and_tags_arrive_through_events(world, sandbox, django_capture_on_commit_callbacks):
    account, as_daisy = world
    ec2 = as_daisy("ec2")
    group = ec2.create_security_group(GroupName="tmp", Description="tmp")["GroupId"]
    _ingest(sandbox, django_capture_on_commit_callbacks)
    resource = ConfigResource.objects.get(resource_id=group)
    assert resource.status == ItemStatus.DISCOVERED
    ec2.create_tags(Resources=[group], Tags=[{"Key": "owner", "Value": "daisy"}])
    _ingest(sandbox, django_capture_on_commit_callbacks)
    resource.refresh_from_db()
    assert resource.tags == {"owner": "daisy"}
    assert resource.items.get(state_id=resource.state_id).diff == [
        {"path": "tags.owner", "change_type": "ADDED", "before": None, "after": "daisy"}]
    ec2.delete_security_group(GroupId=group)
    _ingest(sandbox, django_capture_on_commit_callbacks)
    resource.refresh_from_db()
    assert resource.status == ItemStatus.DELETED
    assert resource.items.get(state_id=resource.state_id).change_type == "DELETE"


def test_a_stopped_recorder_shows_at_once_and_recording_goes_on(world, sandbox, django_capture_on_commit_callbacks):
    """Stopping the account's Config recorder is a change of one more resource (on its timeline, for the rules and
    the remediation); the portal's own recorder does not depend on it and goes on recording everything else."""
    account, as_daisy = world
    account_scan(account=account)
    state = RecorderState.objects.get(account=account, region="us-east-1")
    assert state.recording is True
    config = as_daisy("config")  # Daisy stops her account's recorder
    name = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
    config.stop_configuration_recorder(ConfigurationRecorderName=name)
    group = as_daisy("ec2").create_security_group(GroupName="seen", Description="x")["GroupId"]
    _ingest(sandbox, django_capture_on_commit_callbacks)
    state.refresh_from_db()
    assert state.recording is False and name in state.reason
    recorder = ConfigResource.objects.get(resource_type="AWS::Config::ConfigurationRecorder", resource_id=name,
                                          account_id=account.account_id, region="us-east-1")
    assert [(c["before"], c["after"]) for c in recorder.items.get(state_id=recorder.state_id).diff
            if c["path"] == "configuration.recording"] == [(True, False)]
    assert ConfigResource.objects.get(resource_id=group).status == ItemStatus.DISCOVERED  # through its event
    as_daisy("ec2").create_tags(Resources=[group], Tags=[{"Key": "env", "Value": "dev"}])
    assert account_scan(account=account)["errors"] == []  # and through a scan, with the recorder still stopped
    assert ConfigResource.objects.get(resource_id=group).tags == {"env": "dev"}
    config.start_configuration_recorder(ConfigurationRecorderName=name)
    _ingest(sandbox, django_capture_on_commit_callbacks)
    state.refresh_from_db()
    assert state.recording is True


@pytest.mark.parametrize("config_source", ["PORTAL", "AWS_CONFIG"])
def test_an_account_without_a_running_config_recorder_is_recorded_in_every_allowed_region(world, config_source):
    """The Config recorders of its allowed regions stopped, and ap-southeast-2 allowed after the set-up (its recorder
    never made, never started): a scan records the instances and security groups of every one of them, whatever
    the account's source."""
    account, as_daisy = world
    stopped = {}
    for region in account.allowed_regions:
        config = as_daisy("config", region)  # Daisy stops them
        stopped[region] = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
        config.stop_configuration_recorder(ConfigurationRecorderName=stopped[region])
    regions = [*account.allowed_regions, "ap-southeast-2"]
    account.allowed_regions, account.config_source = regions, config_source
    account.save()
    assert not aws.client("config", account_id=account.account_id,
                          region="ap-southeast-2").describe_configuration_recorders()["ConfigurationRecorders"]
    made = {}
    for region in regions:
        ec2 = as_daisy("ec2", region)
        group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
        instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                     SecurityGroupIds=[group])["Instances"][0]["InstanceId"]
        made[region] = {(SG, group), ("AWS::EC2::Instance", instance)}

    result = account_scan(account=account)
    assert result["errors"] == []
    assert result["regions"] == {**{region: {"recording": False, "reason": f"{name} stopped"}
                                    for region, name in stopped.items()},
                                 "ap-southeast-2": {"recording": False, "reason": "no Config recorder in this region"}}
    for region in regions:
        recorded = set(ConfigResource.objects.filter(account_id=account.account_id, region=region).exclude(
            status=ItemStatus.DELETED).values_list("resource_type", "resource_id"))
        assert made[region] <= recorded, (region, made[region] - recorded)
    # The stopped recorder is itself in the inventory, stopped.
    recorder = ConfigResource.objects.get(resource_type="AWS::Config::ConfigurationRecorder",
                                          resource_id=stopped["us-east-1"], account_id=account.account_id,
                                          region="us-east-1")
    assert recorder.configuration["recording"] is False


STACK = """
Resources:
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
"""


def test_a_full_scan_records_every_type_and_the_stacks_resources(world):
    from audit.config.registry import recorded_types

    account, _ = world
    acct = account.account_id
    admin = operator_clients(acct)  # one of each type, made by the account's administrator
    ec2 = admin("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet)
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                         LogDestination="arn:aws:s3:::guardrail-cloudtrail-" + acct)
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet)
    iam = admin("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    iam.create_policy(PolicyName="app-read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    admin("rds").create_db_instance(
        DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
        MasterUserPassword="Passw0rdPassw0rd", AllocatedStorage=20)
    admin("cloudformation").create_stack(StackName="web", TemplateBody=STACK)

    result = account_scan(account=account)
    assert result["errors"] == []
    recorded = set(ConfigResource.objects.filter(account_id=acct).values_list("resource_type", flat=True))
    assert recorded == set(recorded_types()), set(recorded_types()) - recorded
    assert result["totals"]["api_calls"] < 80  # batched: a handful of calls per type, not one per resource
    stack = ConfigResource.objects.get(account_id=acct, resource_type="AWS::CloudFormation::Stack", resource_id="web")
    [group] = [r for r in related_resources(stack) if r["resource_type"] == SG]
    assert group["resource"] is not None and group["resource"].tags["aws:cloudformation:stack-name"] == "web"
    trail = ConfigResource.objects.get(account_id=acct, resource_type="AWS::CloudTrail::Trail")
    # its bucket, and the account kit's stack that made it (the sandbox's bootstrap deploys the kit)
    assert {r["resource_id"] for r in related_resources(trail)} == {f"guardrail-cloudtrail-{acct}",
                                                                     "guardrail-member-account"}
    assert ConfigResource.objects.get(resource_type="AWS::IAM::User", resource_id="daisy").region == "global"
