"""The bootstrap sets up every account and person, and a second run changes nothing."""

from django.conf import settings

from sandbox.bootstrap import (
    LAUNCH_ROLE_NAME, MANAGEMENT_STACK, MEMBER_STACK, QUEUE_NAME, RECORDER_NAME, TRAIL_NAME, bootstrap_from_portal,
    config_bucket, trail_bucket,
)
from sandbox.bootstrap import AccountSpec, bootstrap
from sandbox.operator import operator_client
from sandbox.people import USERNAME_TAG, person_of
from sandbox.testing import trail_records

MANAGEMENT = settings.AWS_MANAGEMENT_ACCOUNT_ID


def test_it_bootstraps_every_account_and_person_idempotently(sandbox, people):
    first = bootstrap_from_portal()
    assert first.created and not first.existing
    second = bootstrap_from_portal()
    assert second.created == [] and len(second.existing) == len(first.created)

    acct = "111111111111"
    if True:  # one account in detail: each client costs portal.aws a new boto3 session
        iam = operator_client("iam", acct)
        portal_role = iam.get_role(RoleName="GuardrailPortal")["Role"]
        trust = str(portal_role["AssumeRolePolicyDocument"])
        assert f"arn:aws:iam::{MANAGEMENT}:user/guardrail-portal" in trust and settings.AWS_EXTERNAL_ID in trust
        launch_role = iam.get_role(RoleName=LAUNCH_ROLE_NAME)["Role"]
        assert "cloudformation.amazonaws.com" in str(launch_role["AssumeRolePolicyDocument"])
        assert launch_role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/GuardrailLaunchBoundary")
        assert iam.get_role(RoleName=settings.AWS_REMEDIATION_ROLE_NAME)["Role"]

        # all of it made by the account kit's stack, as a user deploys it
        cfn = operator_client("cloudformation", acct)
        stack = cfn.describe_stacks(StackName=MEMBER_STACK)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        made = {r["PhysicalResourceId"] for r in cfn.describe_stack_resources(StackName=MEMBER_STACK)["StackResources"]}
        assert {"GuardrailPortal", LAUNCH_ROLE_NAME, TRAIL_NAME, trail_bucket(acct)} <= made
        assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == [MEMBER_STACK]

        cloudtrail = operator_client("cloudtrail", acct)
        trail = cloudtrail.get_trail(Name=TRAIL_NAME)["Trail"]
        assert trail["S3BucketName"] == trail_bucket(acct) and trail["IsMultiRegionTrail"]
        assert cloudtrail.get_trail_status(Name=TRAIL_NAME)["IsLogging"]

        s3 = operator_client("s3", acct)
        assert "cloudtrail.amazonaws.com" in s3.get_bucket_policy(Bucket=trail_bucket(acct))["Policy"]
        queues = s3.get_bucket_notification_configuration(Bucket=trail_bucket(acct))["QueueConfigurations"]
        assert [q["QueueArn"].rsplit(":", 1)[-1] for q in queues] == [QUEUE_NAME]
        assert queues[0]["Filter"]["Key"]["FilterRules"][0]["Value"] == "AWSLogs/"

        config = operator_client("config", acct)
        assert [r["name"] for r in config.describe_configuration_recorders()["ConfigurationRecorders"]] == [
            RECORDER_NAME]
        channel = config.describe_delivery_channels()["DeliveryChannels"][0]
        assert channel["s3BucketName"] == config_bucket(acct)
        status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]
        assert status["recording"] is True

    def users(acct):
        iam = operator_client("iam", acct)
        return {u["UserName"]: {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=u["UserName"])["Tags"]}
                for u in iam.list_users()["Users"]}

    management_users = users(MANAGEMENT)
    assert management_users["adam"] == {USERNAME_TAG: "adam"}
    assert management_users["audrey"] == {USERNAME_TAG: "audrey"}
    assert "daisy" not in management_users
    assert set(users("111111111111")) == {"daisy"}
    assert set(users("222222222222")) == {"dan"}


def test_it_logs_the_bootstraps_own_calls_once_the_trail_runs(sandbox, people):
    bootstrap([AccountSpec("111111111111", "GuardrailPortal")], [person_of(people.daisy)])

    records = trail_records(trail_bucket("111111111111"), sandbox)
    names = [r["eventName"] for r in records]
    assert names[0] == "CreateStack"  # nothing before the kit's stack made the trail
    assert "CreateUser" in names and "PutConfigurationRecorder" in names
    assert {r["userIdentity"]["type"] for r in records} == {"AssumedRole"}


def test_it_deploys_both_kits_in_the_management_account_and_updates_a_stack_only_when_its_inputs_change(
        sandbox, settings):
    spec = AccountSpec(MANAGEMENT, "GuardrailPortal")
    first = bootstrap([spec])
    assert f"{MANAGEMENT} CloudFormation stack {MANAGEMENT_STACK} (deploy/aws/{MANAGEMENT_STACK}.yaml)" in first.created
    cfn = operator_client("cloudformation", MANAGEMENT)
    assert sorted(s["StackName"] for s in cfn.describe_stacks()["Stacks"]) == [MANAGEMENT_STACK, MEMBER_STACK]
    iam = operator_client("iam", MANAGEMENT)
    attached = iam.list_attached_user_policies(UserName="guardrail-portal")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["GuardrailPortalAssume"]
    assert iam.get_role(RoleName=settings.AWS_ORGANIZATIONS_ROLE_NAME)["Role"]

    assert bootstrap([spec]).created == []  # unchanged: nothing, not even an update

    settings.AWS_EXTERNAL_ID = "rotated-external-id"
    changed = bootstrap([spec])
    assert sorted(changed.created) == [
        f"{MANAGEMENT} CloudFormation stack {name} (deploy/aws/{name}.yaml) updated"
        for name in (MANAGEMENT_STACK, MEMBER_STACK)]
    assert "rotated-external-id" in str(iam.get_role(RoleName="GuardrailPortal")["Role"]["AssumeRolePolicyDocument"])
    assert {s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]} == {"UPDATE_COMPLETE"}


def test_a_kit_stack_whose_create_failed_is_deleted_and_made_again(sandbox):
    from moto.cloudformation.models import cloudformation_backends

    acct, spec = "111111111111", AccountSpec("111111111111", "GuardrailPortal")
    bootstrap([spec])
    cfn = operator_client("cloudformation", acct)
    first_id = cfn.describe_stacks(StackName=MEMBER_STACK)["Stacks"][0]["StackId"]
    # as AWS leaves a create that failed: ROLLBACK_COMPLETE (moto never fails a create that way; say it did)
    operator_client("cloudtrail", acct).stop_logging(Name=TRAIL_NAME)
    sandbox.flush()
    s3 = operator_client("s3", acct)
    for item in s3.list_objects_v2(Bucket=trail_bucket(acct)).get("Contents", []):
        s3.delete_object(Bucket=trail_bucket(acct), Key=item["Key"])
    cloudformation_backends[acct][settings.AWS_DEFAULT_REGION].stacks[first_id].status = "ROLLBACK_COMPLETE"

    again = bootstrap([spec])
    assert f"{acct} CloudFormation stack {MEMBER_STACK} (deploy/aws/{MEMBER_STACK}.yaml)" in again.created
    stack = cfn.describe_stacks(StackName=MEMBER_STACK)["Stacks"][0]
    assert stack["StackId"] != first_id and stack["StackStatus"] == "CREATE_COMPLETE"
    assert operator_client("cloudtrail", acct).get_trail_status(Name=TRAIL_NAME)["IsLogging"] is True
