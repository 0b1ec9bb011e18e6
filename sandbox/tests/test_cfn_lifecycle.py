"""The sandbox's CloudFormation runs a stack as AWS does: resource by resource, AWS's events, parameter checks,
rollbacks, DeletionPolicy Retain, NoEcho masked (sandbox.cfn_lifecycle, sandbox.cfn_params).

The expected sequences and messages are AWS's own, as published:
- RECORDED: the describe-stack-events sequences recorded for the portal's progress tests
  (catalog/provisioning/tests/fixtures/create_success.json, create_rollback.json, delete.json, for the demo's
  WebServerSecurityGroup + WebServer stack; each file's "Sources" names where AWS's documentation and public issues
  show them: docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html,
  stack-resource-configuration-complete.html, github.com/scottctaylor12/Red-Lambda issue 1 for the image's
  CREATE_FAILED reason, github.com/neo4j-contrib/ec2neo issue 11 for the rollback, github.com/envato/stack_master
  pull 27 for the delete). The sandbox's events must have the same resources, statuses and reasons in the same order.
- AWS_CREATE: the same create (monitor-stack-progress.html and using-cfn-listing-event-history.html show the
  stack's "User Initiated" event, each resource's CREATE_IN_PROGRESS, then CREATE_COMPLETE).
- KEY_PAIR_MISSING: "Parameter validation failed: parameter value transin-ravi-west-1.pem for parameter name KeyName
  does not exist. Rollback requested by user." on AWS::CloudFormation::Stack, the stack then ROLLBACK_COMPLETE
  (github.com/aws/amazon-ecs-cli issue 236; the same text in github.com/campsych/concerto-platform issue 345).
- ALLOWED_VALUES: "Parameter 'Environment' must be one of AllowedValues" (a CreateStack ValidationError quoted in
  public project notes found with the code search, e.g. a SAM deployment log).
- CONSTRAINT: "Parameter InstanceType failed to satisfy constraint: must contain 1-4 instance types separated by
  commas. No space before/after the comma." (github.com/buildkite/elastic-ci-stack-for-aws issue 1227): with a
  ConstraintDescription AWS names the parameter without quotes and gives the description.
- IMAGE_MISSING: EC2's InvalidAMIID.NotFound text "The image id '[ami-…]' does not exist" (botocore's error for
  RunInstances), which CloudFormation reports as the instance's CREATE_FAILED reason, then "The following
  resource(s) failed to create: [WebServer]. Rollback requested by user." on the stack.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sandbox import cfn_lifecycle
from sandbox.testing import operator_clients

ACCOUNT = "111111111111"
LAMP = (Path(__file__).resolve().parents[2] / "catalog" / "demo" / "lamp-v2.yaml").read_text()
# The key pair parameter as EC2InstanceWithSecurityGroupSample.yaml (the shared samples) declares it.
KEYED = """
Parameters:
  KeyName:
    Description: Name of an existing EC2 KeyPair to enable SSH access to the instance
    Type: AWS::EC2::KeyPair::KeyName
    ConstraintDescription: must be the name of an existing EC2 KeyPair.
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: ssh}
"""
GOOD = {"DBPassword": "Passw0rdPassw0rd"}

FIXTURES = Path(__file__).resolve().parents[2] / "catalog" / "provisioning" / "tests" / "fixtures"


def _recorded(name: str) -> list[tuple[str, str, str | None]]:
    """A recorded AWS sequence, oldest first, as _events gives the sandbox's (reasons of images and ids aside)."""
    events = json.loads((FIXTURES / f"{name}.json").read_text())["StackEvents"][::-1]
    return [("Stack" if e["ResourceType"] == "AWS::CloudFormation::Stack" else e["LogicalResourceId"],
             e["ResourceStatus"], e.get("ResourceStatusReason") or None) for e in events]


AWS_CREATE = _recorded("create_success")


def _cfn():
    """As the account's administrator, who deploys stacks by hand."""
    return operator_clients(ACCOUNT)("cloudformation")


def _ec2():
    return operator_clients(ACCOUNT)("ec2")


def _params(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _events(cfn, name: str) -> list[tuple[str, str, str | None]]:
    """Oldest first, the stack's own events named "Stack"."""
    events = cfn.describe_stack_events(StackName=name)["StackEvents"][::-1]
    return [("Stack" if e["ResourceType"] == "AWS::CloudFormation::Stack" else e["LogicalResourceId"],
             e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]


def _refusal(cfn, template: str, values: dict[str, str]) -> str:
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName="refused", TemplateBody=template, Parameters=_params(values))
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    return refused.value.response["Error"]["Message"]


def test_a_create_reports_each_resource_in_aws_order_and_hides_noecho_values(sandbox):
    cfn = _cfn()
    cfn.create_stack(StackName="lamp", TemplateBody=LAMP, Parameters=_params(GOOD))
    assert _events(cfn, "lamp") == AWS_CREATE
    stack = cfn.describe_stacks(StackName="lamp")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    shown = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert shown["DBPassword"] == "****" and shown["DBUser"] == "webapp"
    complete = [e for e in cfn.describe_stack_events(StackName="lamp")["StackEvents"]
                if e["ResourceStatus"] == "CREATE_COMPLETE" and e["LogicalResourceId"] == "WebServer"]
    assert complete[0]["PhysicalResourceId"].startswith("i-")


@pytest.mark.parametrize(("values", "message"), [
    ({**GOOD, "Environment": "prod"}, "Parameter 'Environment' must be one of AllowedValues"),  # ALLOWED_VALUES
    ({**GOOD, "SSHLocation": "everywhere"},  # CONSTRAINT
     "Parameter SSHLocation failed to satisfy constraint: must be a valid IP CIDR range of the form x.x.x.x/x."),
    ({"DBPassword": "short"}, "Parameter DBPassword failed to satisfy constraint: must contain only alphanumeric "
                              "characters, 12 to 41 of them."),
    ({}, "Parameters: [DBPassword] must have values"),
    ({**GOOD, "Nope": "x"}, "Parameters: [Nope] do not exist in the template"),
])
def test_parameters_are_refused_with_aws_messages(sandbox, values, message):
    cfn = _cfn()
    assert _refusal(cfn, LAMP, values) == message
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "refused"]


def test_messages_without_a_constraint_description():
    from sandbox.cfn_params import refusal

    template = {"Parameters": {"Size": {"Type": "Number", "MinValue": 1, "MaxValue": 9},
                               "Name": {"Type": "String", "MinLength": 2, "MaxLength": 4, "AllowedPattern": "[a-z]*"}}}
    assert refusal(template, {"Size": "x", "Name": "ab"}) == "Parameter 'Size' must be a number"
    assert refusal(template, {"Size": "0", "Name": "ab"}) == "Parameter 'Size' must be a number not less than 1"
    assert refusal(template, {"Size": "10", "Name": "ab"}) == "Parameter 'Size' must be a number not greater than 9"
    assert refusal(template, {"Size": "1", "Name": "a"}) == "Parameter 'Name' must contain at least 2 characters"
    assert refusal(template, {"Size": "1", "Name": "abcde"}) == "Parameter 'Name' must contain at most 4 characters"
    assert refusal(template, {"Size": "1", "Name": "AB"}) == "Parameter 'Name' must match pattern [a-z]*"
    assert refusal(template, {"Size": "1", "Name": "ab"}) is None


def test_a_key_pair_that_does_not_exist_rolls_the_stack_back(sandbox):  # KEY_PAIR_MISSING
    cfn = _cfn()
    cfn.create_stack(StackName="keyed", TemplateBody=KEYED, Parameters=_params({"KeyName": "kp"}))
    assert _events(cfn, "keyed") == [
        ("Stack", "CREATE_IN_PROGRESS", "User Initiated"),
        ("Stack", "ROLLBACK_IN_PROGRESS", "Parameter validation failed: parameter value kp for parameter name "
                                          "KeyName does not exist. Rollback requested by user."),
        ("Stack", "ROLLBACK_COMPLETE", None)]
    assert cfn.describe_stacks(StackName="keyed")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"


def test_an_image_that_does_not_exist_fails_the_instance_and_rolls_back_what_was_made(sandbox):  # IMAGE_MISSING
    cfn, ec2 = _cfn(), _ec2()
    cfn.create_stack(StackName="noimage", TemplateBody=LAMP.replace("ami-0c02fb55956c7d316", "ami-0000000000000dead"),
                     Parameters=_params(GOOD))
    events, recorded = _events(cfn, "noimage"), _recorded("create_rollback")
    assert [(r, s) for r, s, _ in events] == [(r, s) for r, s, _ in recorded]
    assert [reason for i, (_, _, reason) in enumerate(events) if i != 5] == \
        [reason for i, (_, _, reason) in enumerate(recorded) if i != 5]
    assert events[5][2].startswith("The image id '[ami-0000000000000dead]' does not exist (Service: AmazonEC2; "
                                   "Status Code: 400; Error Code: InvalidAMIID.NotFound;")
    # AWS's own words for the same failure, its image id and request id aside
    assert recorded[5][2].split("'")[0] == events[5][2].split("'")[0]
    assert recorded[5][2].split("]'")[1].split("Request ID")[0] == events[5][2].split("]'")[1].split("Request ID")[0]
    assert events[6][2] == "The following resource(s) failed to create: [WebServer]. Rollback requested by user."
    stack = cfn.describe_stacks(StackName="noimage")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE" and not stack.get("Outputs")
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:aws:cloudformation:stack-name",
                                                    "Values": ["noimage"]}])["SecurityGroups"]
    assert groups == []


def test_a_delete_reports_each_resource_as_aws_does(sandbox):
    cfn = _cfn()
    stack_id = cfn.create_stack(StackName="gone", TemplateBody=LAMP, Parameters=_params(GOOD))["StackId"]
    cfn.delete_stack(StackName="gone")
    assert _events(cfn, stack_id) == _recorded("delete")


def test_a_delete_keeps_what_deletion_policy_retain_keeps(sandbox):
    cfn, ec2 = _cfn(), _ec2()
    template = LAMP.replace("    Type: AWS::EC2::SecurityGroup\n",
                            "    Type: AWS::EC2::SecurityGroup\n    DeletionPolicy: Retain\n")
    stack_id = cfn.create_stack(StackName="kept", TemplateBody=template, Parameters=_params(GOOD))["StackId"]
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                 for r in cfn.describe_stack_resources(StackName="kept")["StackResources"]}
    cfn.delete_stack(StackName="kept")
    assert _events(cfn, stack_id)[len(AWS_CREATE):] == [
        ("Stack", "DELETE_IN_PROGRESS", "User Initiated"),
        ("WebServer", "DELETE_IN_PROGRESS", None), ("WebServer", "DELETE_COMPLETE", None),
        ("WebServerSecurityGroup", "DELETE_SKIPPED", None),
        ("Stack", "DELETE_COMPLETE", None)]
    assert ec2.describe_security_groups(GroupIds=[resources["WebServerSecurityGroup"]])["SecurityGroups"]
    instance = ec2.describe_instances(InstanceIds=[resources["WebServer"]])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "terminated"


def test_with_time_per_resource_the_stack_is_in_progress_meanwhile(sandbox):
    cfn = _cfn()
    cfn_lifecycle.configure(0.3)
    try:
        cfn.create_stack(StackName="slow", TemplateBody=LAMP, Parameters=_params(GOOD))
        first = cfn.describe_stacks(StackName="slow")["Stacks"][0]
        assert first["StackStatus"] == "CREATE_IN_PROGRESS" and not first.get("Outputs")
        deadline = time.monotonic() + 10
        while cfn.describe_stacks(StackName="slow")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert _events(cfn, "slow") == AWS_CREATE
        stack_id = cfn.describe_stacks(StackName="slow")["Stacks"][0]["StackId"]
        cfn.delete_stack(StackName="slow")
        assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_IN_PROGRESS"
        deadline = time.monotonic() + 10
        while cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_IN_PROGRESS":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    finally:
        cfn_lifecycle.configure(0)


def test_an_executed_create_change_set_makes_the_stack_as_create_stack_does(sandbox):
    cfn, ec2 = _cfn(), _ec2()
    cfn.create_change_set(StackName="viacs", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=LAMP,
                          Parameters=_params(GOOD))
    assert cfn.describe_stacks(StackName="viacs")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    cfn.execute_change_set(StackName="viacs", ChangeSetName="first")
    stack = cfn.describe_stacks(StackName="viacs")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"] for o in stack["Outputs"]} >= {"WebsiteURL"}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["DBPassword"] == "****"
    assert _events(cfn, "viacs") == [("Stack", "REVIEW_IN_PROGRESS", "User Initiated")] + AWS_CREATE
    assert cfn.describe_change_set(StackName="viacs", ChangeSetName="first")["ExecutionStatus"] == "EXECUTE_COMPLETE"
    group = {r["LogicalResourceId"]: r["PhysicalResourceId"]
             for r in cfn.describe_stack_resources(StackName="viacs")["StackResources"]}["WebServerSecurityGroup"]
    drift = cfn.detect_stack_drift(StackName="viacs")["StackDriftDetectionId"]
    assert cfn.describe_stack_drift_detection_status(StackDriftDetectionId=drift)["StackDriftStatus"] == "IN_SYNC"
    cfn.delete_stack(StackName="viacs")
    with pytest.raises(ClientError):  # the stack's delete took its resources, as for any stack
        ec2.describe_security_groups(GroupIds=[group])


GROUP = "Resources:\n  Group:\n    Type: AWS::EC2::SecurityGroup\n    Properties: {GroupDescription: ssh}\n"


def test_what_an_executed_update_change_set_adds_goes_with_the_stack(sandbox):
    cfn, s3 = _cfn(), operator_clients(ACCOUNT)("s3")
    cfn.create_stack(StackName="grown", TemplateBody=GROUP)
    grown = GROUP + "  Logs:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: grown-logs}\n"
    cfn.create_change_set(StackName="grown", ChangeSetName="more", ChangeSetType="UPDATE", TemplateBody=grown)
    cfn.execute_change_set(StackName="grown", ChangeSetName="more")
    assert "grown-logs" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    cfn.delete_stack(StackName="grown")
    assert "grown-logs" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
