"""add_required_tags (every tagging call) and stop_instance against the sandbox AWS."""

from remediation.actions import FAILED, SKIPPED, SUCCEEDED, Target
from remediation.actions.compute import StopInstance
from remediation.actions.tagging import AddRequiredTags
from remediation.actions.tests.helpers import ACCOUNT, IMAGE, REGION

REQUIRED = {"owner": "daisy", "cost-center": "cc-42"}


def _instance(ec2, **tags):
    specs = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    return ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             TagSpecifications=specs)["Instances"][0]["InstanceId"]


def _tag(kind, resource_id, region=REGION, tags=REQUIRED):
    return Target(kind, resource_id, ACCOUNT, region, {"tags": dict(tags)})


def _fix(clients, target):
    action = AddRequiredTags()
    plan = action.preview(clients, target)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True), outcome.message
    assert action.preview(clients, target).noop
    return plan, outcome


def test_ec2_gets_only_the_missing_keys(clients, ec2):
    instance = _instance(ec2, Name="app", owner="dan")
    target = _tag("AWS::EC2::Instance", instance)
    plan = AddRequiredTags().preview(clients, target)
    assert (plan.api_call, plan.parameters) == ("ec2:CreateTags", {
        "Resources": [instance], "Tags": [{"Key": "cost-center", "Value": "cc-42"}]})
    assert plan.expected_change == f"Adds the tag cost-center=cc-42 to {instance}"
    _, outcome = _fix(clients, target)
    assert outcome.before["tags"] == {"Name": "app", "owner": "dan"}
    assert outcome.after["tags"] == {"Name": "app", "owner": "dan", "cost-center": "cc-42"}  # dan stays the owner


def test_s3_tagging_merges_the_existing_tags(clients, s3):
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    target = _tag("AWS::S3::Bucket", "tagged")
    plan, outcome = _fix(clients, target)
    assert (plan.api_call, plan.parameters) == ("s3:PutBucketTagging", {"Bucket": "tagged", "Tagging": {"TagSet": [
        {"Key": "cost-center", "Value": "cc-42"}, {"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "daisy"}]}})
    assert outcome.after["tags"] == {"env": "prod", **REQUIRED}


def test_s3_tags_changed_between_preview_and_apply_are_never_dropped(clients, s3):
    s3.create_bucket(Bucket="tagged")
    action = AddRequiredTags()
    plan = action.preview(clients, _tag("AWS::S3::Bucket", "tagged"))
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    outcome = action.apply(clients, plan)
    assert outcome.status == SKIPPED and outcome.message.startswith("Target changed since the plan")
    assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "env", "Value": "prod"}]


def test_iam_users_and_roles(clients, admin):
    iam = admin("iam", "global")
    iam.create_user(UserName="alice", Tags=[{"Key": "owner", "Value": "alice"}])
    iam.create_role(RoleName="app", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    plan, _ = _fix(clients, _tag("AWS::IAM::User", "alice", region="global"))
    assert (plan.api_call, plan.parameters) == ("iam:TagUser", {
        "UserName": "alice", "Tags": [{"Key": "cost-center", "Value": "cc-42"}]})
    plan, outcome = _fix(clients, _tag("AWS::IAM::Role", "app", region="global"))
    assert (plan.api_call, plan.parameters["RoleName"]) == ("iam:TagRole", "app")
    assert outcome.after["tags"] == REQUIRED


def test_rds_and_cloudtrail_are_tagged_by_arn(clients, admin, s3):
    rds = admin("rds", REGION)
    arn = rds.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                                 MasterUsername="admin", MasterUserPassword="password123",
                                 AllocatedStorage=20)["DBInstance"]["DBInstanceArn"]
    plan, _ = _fix(clients, _tag("AWS::RDS::DBInstance", "db1"))
    assert (plan.api_call, plan.parameters["ResourceName"]) == ("rds:AddTagsToResource", arn)
    s3.create_bucket(Bucket="trail-bucket")
    trail = admin("cloudtrail", REGION).create_trail(Name="main", S3BucketName="trail-bucket")["TrailARN"]
    plan, _ = _fix(clients, _tag("AWS::CloudTrail::Trail", "main"))
    assert (plan.api_call, plan.parameters["ResourceId"]) == ("cloudtrail:AddTags", trail)
    assert plan.parameters["TagsList"] == [{"Key": "cost-center", "Value": "cc-42"}, {"Key": "owner", "Value": "daisy"}]


def test_tags_need_to_be_named_and_the_resource_to_exist(clients, ec2):
    action = AddRequiredTags()
    instance = _instance(ec2)
    plan = action.preview(clients, Target("AWS::EC2::Instance", instance, ACCOUNT, REGION))
    assert plan.blocked.startswith("details.tags is missing") and plan.api_call == "ec2:CreateTags"
    gone = action.preview(clients, _tag("AWS::IAM::User", "nobody", region="global"))
    assert gone.blocked == "AWS::IAM::User nobody does not exist"
    assert action.apply(clients, gone).status == FAILED
    stack = action.preview(clients, _tag("AWS::CloudFormation::Stack", "stack"))
    assert stack.blocked == "add_required_tags does not apply to AWS::CloudFormation::Stack"


# ---------------------------------------------------------------------------------------------- stop_instance


def test_stop_a_running_instance(clients, ec2):
    instance = _instance(ec2)
    action = StopInstance()
    target = Target("AWS::EC2::Instance", instance, ACCOUNT, REGION)
    plan = action.preview(clients, target)
    assert (plan.api_call, plan.parameters, plan.noop) == ("ec2:StopInstances", {"InstanceIds": [instance]}, False)
    assert plan.expected_change.startswith(f"Stops the instance {instance} (now running)")
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert outcome.before["configuration"]["state"]["name"] == "running"
    assert outcome.after["configuration"]["state"]["name"] in ("stopping", "stopped")
    assert action.preview(clients, target).noop
    assert action.apply(clients, plan).status == SKIPPED  # the same plan again: already stopped


def test_stopping_an_instance_that_does_not_exist_fails_with_the_aws_error(clients):
    action = StopInstance()
    plan = action.preview(clients, Target("AWS::EC2::Instance", "i-0123456789abcdef0", ACCOUNT, REGION))
    assert plan.error_code == "InvalidInstanceID.NotFound"
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code) == (FAILED, "InvalidInstanceID.NotFound")


def test_a_terminated_instance_needs_no_stop(clients, ec2):
    instance = _instance(ec2)
    ec2.terminate_instances(InstanceIds=[instance])
    plan = StopInstance().preview(clients, Target("AWS::EC2::Instance", instance, ACCOUNT, REGION))
    assert plan.noop and plan.expected_change == f"Nothing to do: {instance} is terminated"
