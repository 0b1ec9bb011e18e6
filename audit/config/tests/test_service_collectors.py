"""The S3, CloudTrail, Config recorder, RDS and CloudFormation collectors against the sandbox AWS.

For each type: a scan finds it, `get` gives the same snapshot, a re-describe with nothing changed gives an
equal snapshot, a real change gives a different one, the relationships are there, and after deletion `get`
answers None. (IAM has its own file.)
"""

import json

import pytest

from audit.config.base import GLOBAL, Relationship
from audit.config.collectors import cloudformation, cloudtrail, configservice, rds, s3
from portal import aws
from sandbox.testing import account_clients, kit, operator_clients, start_trail

ACCOUNT = "111111111111"
REGION = "us-east-1"


@pytest.fixture
def clients(sandbox):
    """clients(service, region) acting as the portal's reader role in ACCOUNT (which has the kit), GLOBAL mapped to
    the default region as the recorder does."""
    kit(ACCOUNT)
    return account_clients(ACCOUNT, REGION)


@pytest.fixture
def admin(clients):
    """clients(service, region) acting as ACCOUNT's administrator: the resources people make, change, delete."""
    return operator_clients(ACCOUNT, REGION)


def _ours(snapshots):
    """What the test made: not the kit's own bucket, trail and stack (guardrail-*), which the account has too."""
    return [snap for snap in snapshots if not snap.resource_id.startswith("guardrail")]


def _dump(snapshot):
    return json.dumps([snapshot.configuration, snapshot.supplementary, snapshot.tags], default=str)


# ------------------------------------------------------------------------------------------------ S3


def test_buckets_scan_and_get_with_their_region_and_settings(clients, admin):
    s3_client = admin("s3", REGION)
    s3_client.create_bucket(Bucket="collector-home")
    s3_client.put_public_access_block(Bucket="collector-home", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3_client.put_bucket_tagging(Bucket="collector-home", Tagging={"TagSet": [{"Key": "team", "Value": "red"}]})
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::collector-home/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    s3_client.put_bucket_policy(Bucket="collector-home", Policy=policy)
    admin("s3", "eu-west-1").create_bucket(
        Bucket="collector-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    collector = s3.BucketCollector()
    found = {snap.resource_id: snap for snap in _ours(collector.scan(clients, REGION))}
    assert set(found) == {"collector-home", "collector-away"}
    home, away = found["collector-home"], found["collector-away"]
    assert (home.region, away.region) == ("us-east-1", "eu-west-1")
    assert home.arn == "arn:aws:s3:::collector-home" and home.name == "collector-home"
    assert home.configuration["name"] == "collector-home" and home.configuration["creationDate"]
    assert home.tags == {"team": "red"} and away.tags == {}
    assert home.supplementary["PublicAccessBlockConfiguration"] == {
        "blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True, "restrictPublicBuckets": True}
    assert json.loads(home.supplementary["BucketPolicy"]["policyText"]) == json.loads(policy)
    assert home.supplementary["AccessControlList"]["grants"][0]["permission"] == "FULL_CONTROL"
    # what the bucket does not have is null or "Off", not a failure
    assert away.supplementary["BucketPolicy"] == {"policyText": None}
    assert away.supplementary["PublicAccessBlockConfiguration"] is None
    assert away.supplementary["BucketVersioningConfiguration"]["status"] == "Off"
    assert away.supplementary["BucketLoggingConfiguration"] == {"destinationBucketName": None, "logFilePrefix": None}

    assert collector.get(clients, GLOBAL, "collector-home") == home
    assert collector.get(clients, GLOBAL, "arn:aws:s3:::collector-away") == away
    assert collector.get(clients, GLOBAL, "collector-home") == collector.get(clients, GLOBAL, "collector-home")
    assert collector.get(clients, GLOBAL, "no-such-bucket-here") is None


def test_a_bucket_setting_changed_is_a_different_snapshot_and_a_deleted_bucket_is_none(clients, admin):
    s3_client = admin("s3", REGION)
    s3_client.create_bucket(Bucket="collector-changes")
    s3_client.put_public_access_block(Bucket="collector-changes", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    collector = s3.BucketCollector()
    before = collector.get(clients, GLOBAL, "collector-changes")

    s3_client.delete_public_access_block(Bucket="collector-changes")
    unblocked = collector.get(clients, GLOBAL, "collector-changes")
    assert unblocked != before and unblocked.supplementary["PublicAccessBlockConfiguration"] is None
    assert unblocked.configuration == before.configuration

    s3_client.put_bucket_encryption(Bucket="collector-changes", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    encrypted = collector.get(clients, GLOBAL, "collector-changes")
    assert encrypted != unblocked
    assert unblocked.supplementary["ServerSideEncryptionConfiguration"] is None
    rules = encrypted.supplementary["ServerSideEncryptionConfiguration"]["rules"]
    assert rules[0]["applyServerSideEncryptionByDefault"]["sSEAlgorithm"] == "AES256"

    s3_client.put_bucket_versioning(Bucket="collector-changes", VersioningConfiguration={"Status": "Enabled"})
    versioned = collector.get(clients, GLOBAL, "collector-changes")
    assert versioned.supplementary["BucketVersioningConfiguration"]["status"] == "Enabled"

    s3_client.delete_bucket(Bucket="collector-changes")
    assert collector.get(clients, GLOBAL, "collector-changes") is None
    assert _ours(collector.scan(clients, REGION)) == []


# ------------------------------------------------------------------------------------------------ CloudTrail


def test_trails_scan_and_get_in_their_home_region_with_the_bucket(clients, admin):
    bucket = start_trail(ACCOUNT, name="collector-trail")
    ct = admin("cloudtrail", REGION)
    ct.add_tags(ResourceId=f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/collector-trail",
                TagsList=[{"Key": "owner", "Value": "audit"}])
    collector = cloudtrail.TrailCollector()
    [trail] = _ours(collector.scan(clients, REGION))
    assert trail.resource_id == trail.name == "collector-trail" and trail.region == REGION
    assert trail.arn == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/collector-trail"
    assert trail.configuration["isLogging"] is True
    assert trail.configuration["s3BucketName"] == bucket and trail.configuration["isMultiRegionTrail"] is True
    assert trail.configuration["eventSelectors"] == [] and trail.configuration["advancedEventSelectors"] == []
    assert trail.tags == {"owner": "audit"}
    assert trail.relationships == [Relationship("Is associated with Bucket", "AWS::S3::Bucket", bucket)]
    # a multi-region trail's copies in other regions are not resources of their own
    assert _ours(collector.scan(clients, "eu-west-1")) == []

    assert collector.get(clients, REGION, "collector-trail") == trail
    assert collector.get(clients, REGION, trail.arn) == trail
    assert collector.get(clients, "eu-west-1", trail.arn) == trail  # an ARN names the home region
    assert collector.get(clients, "eu-west-1", "collector-trail") is None
    assert collector.get(clients, REGION, "no-such-trail") is None


def test_a_trail_that_stops_logging_is_a_change_and_a_deleted_trail_is_none(clients, admin):
    start_trail(ACCOUNT, name="collector-trail")
    ct = admin("cloudtrail", REGION)
    collector = cloudtrail.TrailCollector()
    before = collector.get(clients, REGION, "collector-trail")
    assert collector.get(clients, REGION, "collector-trail") == before  # delivery times are not kept

    ct.stop_logging(Name="collector-trail")
    stopped = collector.get(clients, REGION, "collector-trail")
    assert stopped != before and stopped.configuration["isLogging"] is False

    ct.put_event_selectors(TrailName="collector-trail", AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}])
    selected = collector.get(clients, REGION, "collector-trail")
    assert selected.configuration["advancedEventSelectors"][0]["name"] == "management"

    ct.delete_trail(Name="collector-trail")
    assert collector.get(clients, REGION, "collector-trail") is None
    assert _ours(collector.scan(clients, REGION)) == []


# ------------------------------------------------------------------------------------------------ Config recorder


def _recorder(admin, region=REGION, name="default"):
    config = admin("config", region)
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": name, "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config-recorder",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    bucket = f"config-{region}"
    admin("s3", REGION).create_bucket(Bucket=bucket)
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    config.start_configuration_recorder(ConfigurationRecorderName=name)
    return config


def test_the_recorder_shows_whether_it_records_and_stopping_it_is_a_change(clients, admin):
    config = _recorder(admin)
    collector = configservice.ConfigurationRecorderCollector()
    [recorder] = collector.scan(clients, REGION)
    assert recorder.resource_id == recorder.name == "default" and recorder.region == REGION
    assert recorder.configuration["recording"] is True and recorder.configuration["lastStartTime"]
    assert recorder.configuration["roleARN"] == f"arn:aws:iam::{ACCOUNT}:role/config-recorder"
    assert recorder.configuration["recordingGroup"]["allSupported"] is True
    assert "lastStatusChangeTime" not in recorder.configuration
    assert collector.get(clients, REGION, "default") == recorder
    assert collector.get(clients, REGION, "default") == collector.get(clients, REGION, "default")
    [status] = configservice.recorder_status(clients, REGION)
    assert status["name"] == "default" and status["recording"] is True
    assert status["last_start_time"].tzinfo is not None and status["last_stop_time"] is None

    config.stop_configuration_recorder(ConfigurationRecorderName="default")
    stopped = collector.get(clients, REGION, "default")
    assert stopped != recorder and stopped.configuration["recording"] is False
    assert stopped.configuration["lastStopTime"]
    [status] = configservice.recorder_status(clients, REGION)
    assert status["recording"] is False and status["last_stop_time"] is not None

    config.delete_delivery_channel(DeliveryChannelName="default")
    config.delete_configuration_recorder(ConfigurationRecorderName="default")
    assert collector.get(clients, REGION, "default") is None
    assert list(collector.scan(clients, REGION)) == []
    assert configservice.recorder_status(clients, REGION) == []


def test_a_region_without_a_recorder_has_none(clients, admin):
    _recorder(admin)
    collector = configservice.ConfigurationRecorderCollector()
    assert list(collector.scan(clients, "eu-west-1")) == []
    assert collector.get(clients, "eu-west-1", "default") is None
    assert configservice.recorder_status(clients, "eu-west-1") == []


# ------------------------------------------------------------------------------------------------ RDS


def _db_instance(admin, identifier="collector-db"):
    ec2 = admin("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")
               ["Subnet"]["SubnetId"] for i, zone in enumerate("ab")]
    group = ec2.create_security_group(GroupName="collector-db", Description="db", VpcId=vpc)["GroupId"]
    client = admin("rds", REGION)
    client.create_db_subnet_group(DBSubnetGroupName="collector-subnets", DBSubnetGroupDescription="db",
                                  SubnetIds=subnets)
    client.create_db_instance(DBInstanceIdentifier=identifier, Engine="postgres", DBInstanceClass="db.t3.micro",
                              MasterUsername="admin", MasterUserPassword="db-password-never-seen",
                              AllocatedStorage=20, DBSubnetGroupName="collector-subnets",
                              VpcSecurityGroupIds=[group], Tags=[{"Key": "tier", "Value": "data"}])
    return client, group


def test_db_instances_scan_and_get_with_their_groups(clients, admin):
    _, group = _db_instance(admin)
    collector = rds.DBInstanceCollector()
    [db] = collector.scan(clients, REGION)
    assert db.resource_id == db.name == "collector-db" and db.region == REGION
    assert db.arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:db:collector-db"
    assert db.configuration["engine"] == "postgres" and db.configuration["allocatedStorage"] == 20
    assert "latestRestorableTime" not in db.configuration and "tagList" not in db.configuration
    assert db.tags == {"tier": "data"}
    assert db.relationships == sorted([
        Relationship("Is associated with DBSubnetGroup", "AWS::RDS::DBSubnetGroup", "collector-subnets"),
        Relationship("Is associated with SecurityGroup", "AWS::EC2::SecurityGroup", group)])
    assert "db-password-never-seen" not in _dump(db)
    assert collector.get(clients, REGION, "collector-db") == db
    assert collector.get(clients, REGION, db.arn) == db
    assert collector.get(clients, REGION, "collector-db") == collector.get(clients, REGION, "collector-db")
    assert list(collector.scan(clients, "eu-west-1")) == []


def test_a_modified_db_instance_is_a_change_and_a_deleted_one_is_none(clients, admin):
    client, _ = _db_instance(admin)
    collector = rds.DBInstanceCollector()
    before = collector.get(clients, REGION, "collector-db")
    client.modify_db_instance(DBInstanceIdentifier="collector-db", AllocatedStorage=40, ApplyImmediately=True)
    after = collector.get(clients, REGION, "collector-db")
    assert after != before and after.configuration["allocatedStorage"] == 40

    client.delete_db_instance(DBInstanceIdentifier="collector-db", SkipFinalSnapshot=True)
    assert collector.get(clients, REGION, "collector-db") is None
    assert list(collector.scan(clients, REGION)) == []


# ------------------------------------------------------------------------------------------------ CloudFormation

SECRET = "stack-secret-hunter2"
TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"DbPassword": {"Type": "String", "NoEcho": True},
                   "Env": {"Type": "String", "Default": "dev"}},
    "Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "stack group"}}},
    "Outputs": {"GroupId": {"Value": {"Ref": "Group"}}},
}


def _stack(admin, name="collector-stack", env="dev"):
    cfn = admin("cloudformation", REGION)
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(TEMPLATE), Tags=[{"Key": "app", "Value": "shop"}],
                     Parameters=[{"ParameterKey": "DbPassword", "ParameterValue": SECRET},
                                 {"ParameterKey": "Env", "ParameterValue": env}])
    return cfn


def test_stacks_scan_and_get_with_noecho_masked_and_their_resources(clients, admin):
    cfn = _stack(admin)
    group = cfn.describe_stacks(StackName="collector-stack")["Stacks"][0]["Outputs"][0]["OutputValue"]
    collector = cloudformation.StackCollector()
    [stack] = _ours(collector.scan(clients, REGION))
    assert stack.resource_id == stack.name == "collector-stack" and stack.region == REGION
    assert stack.arn.startswith(f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/collector-stack/")
    assert stack.configuration["stackStatus"] == "CREATE_COMPLETE"
    assert stack.configuration["parameters"] == [{"parameterKey": "DbPassword", "parameterValue": "****"},
                                                 {"parameterKey": "Env", "parameterValue": "dev"}]
    assert SECRET not in _dump(stack)
    assert stack.configuration["outputs"] == [{"outputKey": "GroupId", "outputValue": group}]
    assert stack.tags == {"app": "shop"}
    assert stack.relationships == [Relationship("Contains SecurityGroup", "AWS::EC2::SecurityGroup", group)]
    assert collector.get(clients, REGION, "collector-stack") == stack
    assert collector.get(clients, REGION, stack.arn) == stack
    assert collector.get(clients, REGION, "collector-stack") == collector.get(clients, REGION, "collector-stack")
    assert collector.get(clients, REGION, "no-such-stack") is None
    assert list(collector.scan(clients, "eu-west-1")) == []


def test_a_new_stack_is_seen_updated_stacks_change_and_deleted_stacks_are_absent(clients, admin):
    collector = cloudformation.StackCollector()
    assert _ours(collector.scan(clients, REGION)) == []
    cfn = _stack(admin)
    _stack(admin, name="collector-other", env="prod")
    before = collector.get(clients, REGION, "collector-stack")
    assert [s.resource_id for s in _ours(collector.scan(clients, REGION))] == ["collector-other", "collector-stack"]

    cfn.update_stack(StackName="collector-stack", TemplateBody=json.dumps(TEMPLATE),
                     Parameters=[{"ParameterKey": "DbPassword", "UsePreviousValue": True},
                                 {"ParameterKey": "Env", "ParameterValue": "test"}])
    after = collector.get(clients, REGION, "collector-stack")
    assert after != before
    assert {p["parameterKey"]: p["parameterValue"] for p in after.configuration["parameters"]} == {
        "DbPassword": "****", "Env": "test"}
    scanned = {s.resource_id: s for s in collector.scan(clients, REGION)}
    assert scanned["collector-stack"] == after and SECRET not in _dump(after)

    arn = before.arn
    cfn.delete_stack(StackName="collector-stack")
    assert collector.get(clients, REGION, "collector-stack") is None
    assert collector.get(clients, REGION, arn) is None  # AWS still describes it by id, as DELETE_COMPLETE
    assert [s.resource_id for s in _ours(collector.scan(clients, REGION))] == ["collector-other"]


def test_only_parameters_declared_without_noecho_are_shown():
    parameters = [{"ParameterKey": "A", "ParameterValue": "x"}, {"ParameterKey": "B", "ParameterValue": "****"},
                  {"ParameterKey": "C", "ParameterValue": "z", "ResolvedValue": "resolved"}]
    assert cloudformation.masked_parameters(parameters, set()) == [
        {"ParameterKey": "A", "ParameterValue": "****"}, {"ParameterKey": "B", "ParameterValue": "****"},
        {"ParameterKey": "C", "ParameterValue": "****", "ResolvedValue": "****"}]
    assert cloudformation.masked_parameters(parameters, {"A", "B", "C"}) == parameters
    assert [p["ParameterValue"] for p in cloudformation.masked_parameters(parameters, {"C"})] == ["****", "****", "z"]


def test_a_parameter_the_current_template_does_not_declare_is_masked(clients, admin):
    """moto applies half of an update that fails: the new template, with the old parameters still there."""
    cfn = _stack(admin)
    replacement = {"Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup",
                                           "Properties": {"GroupDescription": "no parameters"}}}}
    try:
        cfn.update_stack(StackName="collector-stack", TemplateBody=json.dumps(replacement))
    except aws.AWS_ERRORS:
        pass  # moto fails (KeyError) after it swapped the template
    [stack] = _ours(cloudformation.StackCollector().scan(clients, REGION))
    assert SECRET not in _dump(stack)
    assert stack == cloudformation.StackCollector().get(clients, REGION, "collector-stack")
