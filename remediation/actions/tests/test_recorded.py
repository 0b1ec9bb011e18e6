"""Plans from a recorded configuration item (a dry run against the past) against the sandbox AWS.

The property: for the same resource state, `preview_recorded(target, recorded)`, where `recorded` is what the
recorder's collector documents (`document(snapshot)` plus "arn", and a VPC's flow logs as "related"), is the
same Plan as the live `preview(clients, target)`: the same calls, api_call, parameters, noop flag and expected
change. And `apply` takes such a plan like a live one: it goes ahead while the resource is unchanged, and is
SKIPPED ("Target changed since the plan") once it has changed.
"""

import json

import pytest

from audit.config.collectors.ec2 import FlowLogCollector
from audit.config.registry import collectors
from remediation.actions import ACTIONS, SKIPPED, SUCCEEDED, Target, action_by_name
from remediation.actions.base import Action, document
from remediation.actions.tests.helpers import ACCOUNT, IMAGE, REGION

SG, VPC, INSTANCE = "AWS::EC2::SecurityGroup", "AWS::EC2::VPC", "AWS::EC2::Instance"
BUCKET, TRAIL, RECORDER = "AWS::S3::Bucket", "AWS::CloudTrail::Trail", "AWS::Config::ConfigurationRecorder"
FLOW_LOG = "AWS::EC2::FlowLog"
KMS_KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REQUIRED = {"owner": "daisy", "cost-center": "cc-42"}
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def _target(kind, resource_id, region=REGION, **details):
    return Target(kind, resource_id, ACCOUNT, region, details)


def _record(clients, target):
    """The target as the recorder stores it now: its collector's snapshot as a document, with the ARN, and for a
    VPC every flow log of the region as "related" (the action must pick the VPC's own); JSON, as it is stored."""
    resource_id = str(target.details.get("recorder_name") or target.resource_id)
    snapshot = collectors()[target.resource_type].get(clients, target.region, resource_id)
    recorded = document(snapshot)
    if recorded is not None:
        recorded["arn"] = snapshot.arn
        if target.resource_type == VPC:
            recorded["related"] = [
                {"resource_type": FLOW_LOG, "resource_id": s.resource_id, "configuration": s.configuration,
                 "tags": s.tags} for s in FlowLogCollector().scan(clients, target.region)]
            recorded["related"].append({"resource_type": SG, "resource_id": "sg-0", "configuration": {}, "tags": {}})
    return json.loads(json.dumps(recorded))


def _same_as_live(clients, name, target, noop):
    """The live preview and the preview from the recorded item, asserted to be the same plan; the recorded one."""
    action = action_by_name(name)
    live = action.preview(clients, target)
    recorded = action.preview_recorded(target, _record(clients, target))
    assert (live.blocked, live.noop) == ("", noop), live
    assert (recorded.calls, recorded.api_call, recorded.parameters, recorded.noop, recorded.expected_change) == (
        live.calls, live.api_call, live.parameters, live.noop, live.expected_change)
    assert recorded.as_dict() == live.as_dict()
    return recorded


def _applied(clients, plan):
    outcome = action_by_name(plan.action).apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True), outcome.message
    return outcome


# ---------------------------------------------------------------------------------------------- security groups


def _tcp(port, v4=(), v6=()):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": c} for c in v4],
            "Ipv6Ranges": [{"CidrIpv6": c} for c in v6]}


@pytest.fixture
def open_group(ec2, vpc):
    """SSH from the world (IPv4 with a description, IPv6) and the office; all traffic from the world; HTTPS from
    the office and a /0 with other address bits; 8080 from the world, another group and a prefix list."""
    other = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    prefix_list = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=5, AddressFamily="IPv4",
                                                 Entries=[{"Cidr": "10.0.0.0/8"}])["PrefixList"]["PrefixListId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ssh = _tcp(22, v6=["::/0"])
    ssh["IpRanges"] = [{"CidrIp": "0.0.0.0/0", "Description": "anyone"}, {"CidrIp": "10.0.0.0/8"}]
    app = {**_tcp(8080, v4=["0.0.0.0/0"]), "UserIdGroupPairs": [{"GroupId": other}],
           "PrefixListIds": [{"PrefixListId": prefix_list}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        ssh, {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, _tcp(443, v4=["10.0.0.0/8", "1.2.3.4/0"]),
        app])
    return group


def test_revoke_world_ingress_plans_the_same_from_the_record(clients, ec2, open_group):
    plan = _same_as_live(clients, "revoke_world_ingress", _target(SG, open_group), noop=False)
    assert plan.api_call == "ec2:RevokeSecurityGroupIngress"
    assert plan.parameters == {"GroupId": open_group, "IpPermissions": [  # AWS's CamelCase, from lowerCamel
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "1.2.3.4/0"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ]}
    ports = _same_as_live(clients, "revoke_world_ingress", _target(SG, open_group, ports=[22]), noop=False)
    assert [p.get("FromPort") for p in ports.parameters["IpPermissions"]] == [22, None]
    _same_as_live(clients, "revoke_world_ingress", _target(SG, open_group, ports=[3389]), noop=False)  # all traffic
    _same_as_live(clients, "revoke_world_ingress", _target(SG, open_group, ports=[25], protocol="udp"), noop=False)
    blocked = action_by_name("revoke_world_ingress").preview_recorded(
        _target(SG, open_group, ports=["ssh"]), _record(clients, _target(SG, open_group)))
    assert blocked.blocked == "details.ports: 'ssh' is not a port number"


def test_revoke_world_ingress_nothing_to_do_from_the_record(clients, ec2, vpc, open_group):
    _applied(clients, action_by_name("revoke_world_ingress").preview(clients, _target(SG, open_group)))
    plan = _same_as_live(clients, "revoke_world_ingress", _target(SG, open_group), noop=True)
    assert plan.expected_change == f"Nothing to do: {open_group} lets nothing in from the world"
    office = ec2.create_security_group(GroupName="office", Description="office", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=office, IpPermissions=[_tcp(22, ["10.0.0.0/8"], ["2001:db8::/32"])])
    _same_as_live(clients, "revoke_world_ingress", _target(SG, office), noop=True)
    _same_as_live(clients, "revoke_world_ingress", _target(SG, office, ports=[22]), noop=True)


def test_the_record_of_an_aws_config_item_names_the_same_cidrs():
    """AWS Config's own items give ipRanges as plain CIDRs; the revocation still names each world CIDR once."""
    recorded = {"configuration": {"ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["0.0.0.0/0", "10.0.0.0/8"],
         "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.0.0.0/8"}], "ipv6Ranges": [{"cidrIpv6": "::/0"}],
         "prefixListIds": [], "userIdGroupPairs": []}]}}
    plan = action_by_name("revoke_world_ingress").preview_recorded(_target(SG, "sg-1"), recorded)
    assert plan.parameters == {"GroupId": "sg-1", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]}


# ---------------------------------------------------------------------------------------------- flow logs


def _flow_log(ec2, vpc, traffic="ALL"):
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType=traffic, LogDestinationType="s3",
                         LogDestination="arn:aws:s3:::flow-logs")


def test_enable_vpc_flow_logs_plans_the_same_from_the_record(clients, ec2, s3, vpc):
    s3.create_bucket(Bucket="flow-logs")
    other = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    _flow_log(ec2, other)  # another VPC's flow log does not count
    target = _target(VPC, vpc, log_destination="arn:aws:s3:::flow-logs")
    plan = _same_as_live(clients, "enable_vpc_flow_logs", target, noop=False)
    assert plan.parameters == {"ResourceIds": [vpc], "ResourceType": "VPC", "TrafficType": "ALL",
                               "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-logs"}
    role = f"arn:aws:iam::{ACCOUNT}:role/flow-logs"
    _same_as_live(clients, "enable_vpc_flow_logs", _target(VPC, vpc, deliver_logs_permission_arn=role), noop=False)
    _flow_log(ec2, vpc, "REJECT")
    _same_as_live(clients, "enable_vpc_flow_logs", target, noop=False)  # REJECT does not log ALL traffic
    rejected = _same_as_live(clients, "enable_vpc_flow_logs", _target(VPC, vpc, traffic_type="REJECT"), noop=True)
    assert rejected.expected_change.startswith("Nothing to do: Flow log fl-")


def test_enable_vpc_flow_logs_nothing_to_do_from_the_record(clients, ec2, s3, vpc):
    s3.create_bucket(Bucket="flow-logs")
    _flow_log(ec2, vpc)
    plan = _same_as_live(clients, "enable_vpc_flow_logs", _target(VPC, vpc, traffic_type="ACCEPT"), noop=True)
    assert plan.expected_change.startswith("Nothing to do: Flow log fl-") and "logs ALL traffic" in plan.expected_change
    # No destination is needed when there is nothing to do, from the record as live.
    _same_as_live(clients, "enable_vpc_flow_logs", _target(VPC, vpc), noop=True)


def test_flow_logs_need_the_related_flow_logs_in_the_record(clients, vpc):
    action = action_by_name("enable_vpc_flow_logs")
    target = _target(VPC, vpc, bucket="flow-logs")
    recorded = _record(clients, target)
    assert action.preview_recorded(target, {**recorded, "related": []}).calls == action.preview(clients, target).calls
    unnamed = {"resource_type": FLOW_LOG, "resource_id": "fl-1", "configuration": {"trafficType": "ALL"}, "tags": {}}
    assert not action.preview_recorded(target, {**recorded, "related": [unnamed]}).noop  # not said to be this VPC's
    del recorded["related"]
    plan = action.preview_recorded(target, recorded)
    assert plan.blocked == (f"The recorded configuration of AWS::EC2::VPC {vpc} has no related flow logs "
                            f"(recorded[\"related\"])")
    wrong = action.preview_recorded(_target(VPC, vpc, traffic_type="SOME"), recorded)
    assert wrong.blocked == "details.traffic_type 'SOME' is not one of ACCEPT, REJECT, ALL"


# ---------------------------------------------------------------------------------------------- recorders, trails


@pytest.fixture
def config(admin):
    return admin("config", REGION)


@pytest.fixture
def stopped_recorder(config, s3):
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "my-recorder", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    s3.create_bucket(Bucket="config-bucket")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
    config.start_configuration_recorder(ConfigurationRecorderName="my-recorder")
    config.stop_configuration_recorder(ConfigurationRecorderName="my-recorder")
    return "my-recorder"


def test_start_config_recorder_plans_the_same_from_the_record(clients, config, stopped_recorder):
    by_name = _target(RECORDER, "recorder-from-the-item", recorder_name="my-recorder")
    plan = _same_as_live(clients, "start_config_recorder", by_name, noop=False)
    assert plan.parameters == {"ConfigurationRecorderName": "my-recorder"}
    _same_as_live(clients, "start_config_recorder", _target(RECORDER, "my-recorder"), noop=False)
    config.start_configuration_recorder(ConfigurationRecorderName="my-recorder")
    noop = _same_as_live(clients, "start_config_recorder", by_name, noop=True)
    assert noop.expected_change == "Nothing to do: the recorder my-recorder is recording"


def test_the_recorded_item_must_be_of_the_recorder_named(clients, stopped_recorder):
    action = action_by_name("start_config_recorder")
    recorded = _record(clients, _target(RECORDER, "my-recorder"))
    plan = action.preview_recorded(_target(RECORDER, "my-recorder", recorder_name="default"), recorded)
    assert plan.blocked == "The recorded configuration is of the recorder 'my-recorder', not 'default'"
    del recorded["configuration"]["recording"]
    plan = action.preview_recorded(_target(RECORDER, "my-recorder"), recorded)
    assert plan.blocked == ("The recorded configuration of AWS::Config::ConfigurationRecorder my-recorder has no "
                            "configuration.recording")


@pytest.fixture
def quiet_trail(admin, s3):
    s3.create_bucket(Bucket="trail-bucket")
    admin("cloudtrail", REGION).create_trail(Name="main", S3BucketName="trail-bucket")
    return "main"


def test_start_cloudtrail_logging_plans_the_same_from_the_record(clients, admin, quiet_trail):
    plan = _same_as_live(clients, "start_cloudtrail_logging", _target(TRAIL, quiet_trail), noop=False)
    assert plan.parameters == {"Name": "main"}
    admin("cloudtrail", REGION).start_logging(Name="main")
    noop = _same_as_live(clients, "start_cloudtrail_logging", _target(TRAIL, quiet_trail), noop=True)
    assert noop.expected_change == "Nothing to do: the trail main is logging"
    recorded = _record(clients, _target(TRAIL, quiet_trail))
    del recorded["configuration"]["isLogging"]  # e.g. AWS Config's own item: whether it logged is not known
    blocked = action_by_name("start_cloudtrail_logging").preview_recorded(_target(TRAIL, quiet_trail), recorded)
    assert blocked.blocked.endswith("has no configuration.isLogging")


# ---------------------------------------------------------------------------------------------- instances


def _instance(ec2, **tags):
    specs = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    return ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             TagSpecifications=specs)["Instances"][0]["InstanceId"]


def test_stop_instance_plans_the_same_from_the_record(clients, ec2):
    instance = _instance(ec2)
    plan = _same_as_live(clients, "stop_instance", _target(INSTANCE, instance), noop=False)
    assert plan.expected_change.startswith(f"Stops the instance {instance} (now running)")
    ec2.stop_instances(InstanceIds=[instance])
    noop = _same_as_live(clients, "stop_instance", _target(INSTANCE, instance), noop=True)
    assert noop.expected_change in (f"Nothing to do: {instance} is stopped", f"Nothing to do: {instance} is stopping")


# ---------------------------------------------------------------------------------------------- buckets


@pytest.fixture
def bucket(s3):
    s3.create_bucket(Bucket="data-bucket")
    return "data-bucket"


def test_block_s3_public_access_plans_the_same_from_the_record(clients, s3, bucket):
    plan = _same_as_live(clients, "block_s3_public_access", _target(BUCKET, bucket), noop=False)  # no block at all
    assert plan.parameters == {"Bucket": bucket, "PublicAccessBlockConfiguration": ALL_ON}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False})
    partly = _same_as_live(clients, "block_s3_public_access", _target(BUCKET, f"arn:aws:s3:::{bucket}"), noop=False)
    assert partly.expected_change == f"Turns on BlockPublicPolicy for the bucket {bucket}"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_ON)
    _same_as_live(clients, "block_s3_public_access", _target(BUCKET, bucket), noop=True)


def test_enable_bucket_encryption_plans_the_same_from_the_record(clients, s3, bucket):
    plan = _same_as_live(clients, "enable_bucket_encryption", _target(BUCKET, bucket), noop=False)
    assert plan.parameters["ServerSideEncryptionConfiguration"] == {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    _same_as_live(clients, "enable_bucket_encryption", _target(BUCKET, bucket, kms_key_id=KMS_KEY), noop=False)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    noop = _same_as_live(clients, "enable_bucket_encryption", _target(BUCKET, bucket), noop=True)
    assert noop.expected_change == f"Nothing to do: {bucket} is encrypted by default (AES256)"
    _same_as_live(clients, "enable_bucket_encryption", _target(BUCKET, bucket, kms_key_id=KMS_KEY), noop=False)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY},
        "BucketKeyEnabled": True}]})
    _same_as_live(clients, "enable_bucket_encryption", _target(BUCKET, bucket, kms_key_id=KMS_KEY), noop=True)


def test_a_bucket_recorded_without_supplementary_configuration_is_blocked(clients, bucket):
    for name in ("block_s3_public_access", "enable_bucket_encryption"):
        recorded = {**_record(clients, _target(BUCKET, bucket)), "supplementary": {}}
        plan = action_by_name(name).preview_recorded(_target(BUCKET, bucket), recorded)
        assert plan.blocked.startswith(f"The recorded configuration of AWS::S3::Bucket {bucket} has no supplementary")


def test_aws_config_items_leave_out_a_setting_the_bucket_lacks():
    """Config's own supplementaryConfiguration has no PublicAccessBlockConfiguration for a bucket without one;
    its encryption rules are spelled sseAlgorithm."""
    recorded = {"supplementary": {"BucketVersioningConfiguration": {"status": "Off"},
                                  "ServerSideEncryptionConfiguration": {"rules": [
                                      {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}}}
    block = action_by_name("block_s3_public_access").preview_recorded(_target(BUCKET, "b"), recorded)
    assert (block.noop, block.parameters["PublicAccessBlockConfiguration"]) == (False, ALL_ON)
    assert action_by_name("enable_bucket_encryption").preview_recorded(_target(BUCKET, "b"), recorded).noop


# ---------------------------------------------------------------------------------------------- tags


def _tagged_everything(admin, ec2, s3, vpc):
    """One resource of each tagged type, each lacking cost-center; its targets."""
    instance = _instance(ec2, Name="app", owner="dan")
    group = ec2.create_security_group(GroupName="tagged", Description="t", VpcId=vpc)["GroupId"]
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    iam = admin("iam", "global")
    iam.create_user(UserName="alice", Tags=[{"Key": "owner", "Value": "alice"}])
    iam.create_role(RoleName="app", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    iam.create_policy(PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    admin("rds", REGION).create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro",
                                              Engine="postgres", MasterUsername="admin",
                                              MasterUserPassword="password123", AllocatedStorage=20)
    s3.create_bucket(Bucket="trail-bucket")
    admin("cloudtrail", REGION).create_trail(Name="main", S3BucketName="trail-bucket")
    return [_target(INSTANCE, instance, tags=REQUIRED), _target(SG, group, tags=REQUIRED),
            _target(VPC, vpc, tags=REQUIRED), _target(BUCKET, "tagged", tags=REQUIRED),
            _target("AWS::IAM::User", "alice", region="global", tags=REQUIRED),
            _target("AWS::IAM::Role", "app", region="global", tags=REQUIRED),
            _target("AWS::IAM::Policy", "read", region="global", tags=REQUIRED),
            _target("AWS::RDS::DBInstance", "db1", tags=REQUIRED), _target(TRAIL, "main", tags=REQUIRED)]


def test_add_required_tags_plans_the_same_from_the_record_for_every_call(clients, admin, ec2, s3, vpc):
    for target in _tagged_everything(admin, ec2, s3, vpc):
        plan = _same_as_live(clients, "add_required_tags", target, noop=False)
        assert "cost-center=cc-42" in plan.expected_change, target
        _applied(clients, plan)  # the recorded plan, applied while the resource is as recorded
        _same_as_live(clients, "add_required_tags", target, noop=True)


def test_tags_by_arn_need_the_arn_in_the_record(clients, quiet_trail):
    action = action_by_name("add_required_tags")
    target = _target(TRAIL, quiet_trail, tags=REQUIRED)
    recorded = _record(clients, target)
    assert recorded["arn"] and action.preview_recorded(target, recorded).parameters["ResourceId"] == recorded["arn"]
    del recorded["arn"]
    plan = action.preview_recorded(target, recorded)
    assert plan.blocked == ('The recorded configuration of AWS::CloudTrail::Trail main has no arn (recorded["arn"]), '
                            'by which cloudtrail:AddTags names it')
    assert action.preview_recorded(_target(TRAIL, quiet_trail), recorded).blocked.startswith("details.tags is missing")
    del recorded["tags"]
    assert action.preview_recorded(target, recorded).blocked.endswith("has no tags")


# ---------------------------------------------------------------------------------------------- notify, None, types


def test_notify_plans_the_same_from_the_record(clients, bucket):
    target = _target(BUCKET, bucket, message="{resource_id} is public ({rule})", rule="s3", recipients=["adam"])
    plan = _same_as_live(clients, "notify", target, noop=False)
    assert plan.parameters == {"message": f"{bucket} is public (s3)", "recipients": ["adam"]}


TYPED = {"revoke_world_ingress": SG, "start_config_recorder": RECORDER, "start_cloudtrail_logging": TRAIL,
         "enable_vpc_flow_logs": VPC, "add_required_tags": INSTANCE, "block_s3_public_access": BUCKET,
         "enable_bucket_encryption": BUCKET, "stop_instance": INSTANCE, "notify": "AWS::RDS::DBInstance"}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_nothing_recorded_is_a_blocked_plan_naming_that(name):
    target = _target(TYPED[name], "x-1", tags=REQUIRED, bucket="flow-logs")
    plan = action_by_name(name).preview_recorded(target, None)
    assert plan.blocked == (f"Nothing was recorded for {TYPED[name]} x-1: there is no recorded configuration to "
                            f"plan from")
    assert (plan.noop, plan.calls, plan.parameters, plan.action) == (False, [], {}, name)
    assert plan.api_call == action_by_name(name).preview_recorded(target, None).api_call != ""


@pytest.mark.parametrize("name", [name for name in ACTIONS if name != "notify"])
def test_a_type_the_action_does_not_fix_is_blocked_from_the_record_too(name):
    plan = action_by_name(name).preview_recorded(_target("AWS::CloudFormation::Stack", "stack"), {"configuration": {}})
    assert plan.blocked == f"{name} does not apply to AWS::CloudFormation::Stack"


def test_an_action_that_cannot_plan_from_a_record_says_so():
    class Fake(Action):
        name, title, api_call, resource_types = "fake", "Fake", "ec2:DoSomething", (VPC,)

    plan = Fake().preview_recorded(_target(VPC, "vpc-1"), {"configuration": {}})
    assert plan.blocked == "fake cannot plan from a recorded configuration"


# ---------------------------------------------------------------------------------------------- apply


def test_a_recorded_plan_is_applied_while_the_resource_is_as_recorded(clients, admin, ec2, s3, vpc, open_group,
                                                                       stopped_recorder):
    s3.create_bucket(Bucket="flow-logs")
    s3.create_bucket(Bucket="open")
    s3.create_bucket(Bucket="trail-bucket")
    admin("cloudtrail", REGION).create_trail(Name="main", S3BucketName="trail-bucket")
    for name, target in [
        ("revoke_world_ingress", _target(SG, open_group)),
        ("enable_vpc_flow_logs", _target(VPC, vpc, bucket="flow-logs")),
        ("start_config_recorder", _target(RECORDER, "item", recorder_name=stopped_recorder)),
        ("start_cloudtrail_logging", _target(TRAIL, "main")),
        ("stop_instance", _target(INSTANCE, _instance(ec2))),
        ("block_s3_public_access", _target(BUCKET, "open")),
        ("enable_bucket_encryption", _target(BUCKET, "open", kms_key_id=KMS_KEY)),
    ]:
        action = action_by_name(name)
        plan = action.preview_recorded(target, _record(clients, target))
        assert not plan.noop and not plan.blocked, plan
        outcome = _applied(clients, plan)
        assert plan.expected_change in outcome.message
        assert action.preview(clients, target).noop
    app = next(p for p in ec2.describe_security_groups(GroupIds=[open_group])["SecurityGroups"][0]["IpPermissions"]
               if p.get("FromPort") == 8080)
    assert (app["IpRanges"], len(app["UserIdGroupPairs"]), len(app["PrefixListIds"])) == ([], 1, 1)  # they stay


def test_a_recorded_plan_is_skipped_once_the_resource_changed(clients, ec2, s3, open_group):
    action = action_by_name("revoke_world_ingress")
    target = _target(SG, open_group)
    plan = action.preview_recorded(target, _record(clients, target))  # the group as it was
    ec2.revoke_security_group_ingress(GroupId=open_group, IpPermissions=[_tcp(22, v6=["::/0"])])
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED and outcome.message.startswith("Target changed since the plan: preview again")
    assert "::/0" not in str(outcome.after) and "0.0.0.0/0" in str(outcome.after)  # nothing was revoked
    ec2.revoke_security_group_ingress(GroupId=open_group, IpPermissions=action.preview(
        clients, target).parameters["IpPermissions"])
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED and outcome.message.startswith("Target changed since the plan: already fixed")


def test_recorded_s3_tags_never_drop_a_tag_added_since(clients, s3):
    s3.create_bucket(Bucket="tagged")
    action = action_by_name("add_required_tags")
    target = _target(BUCKET, "tagged", tags=REQUIRED)
    plan = action.preview_recorded(target, _record(clients, target))
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED and outcome.message.startswith("Target changed since the plan: preview again")
    assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "env", "Value": "prod"}]


def test_a_recorded_plan_for_a_recorder_started_since_is_skipped(clients, config, stopped_recorder):
    action = action_by_name("start_config_recorder")
    target = _target(RECORDER, stopped_recorder)
    plan = action.preview_recorded(target, _record(clients, target))
    config.start_configuration_recorder(ConfigurationRecorderName=stopped_recorder)
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED
    assert outcome.message == ("Target changed since the plan: already fixed: Nothing to do: the recorder "
                               "my-recorder is recording")
