"""The sandbox's CloudFormation drift detection (moto lacks it): a resource changed outside CloudFormation is
MODIFIED with the property's path and both values, a deleted one DELETED, an untouched one IN_SYNC, a type without
drift support NOT_CHECKED; the shapes are AWS's (sandbox.cfn_drift)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from portal import aws
from sandbox.testing import operator_clients

ACCOUNT = "111111111111"
TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  SshFrom: {Type: String, Default: 10.0.0.0/8}
  InstanceType: {Type: String, Default: t3.micro}
Resources:
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web servers
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: !Ref SshFrom}
        - {IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0}
      Tags: [{Key: role, Value: web}]
  Server:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12c6146b
      InstanceType: !Ref InstanceType
      SecurityGroupIds: [!GetAtt Web.GroupId]
      Tags: [{Key: Name, Value: server}]
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      Tags: [{Key: data, Value: logs}]
  Topic:
    Type: AWS::SNS::Topic
"""


@pytest.fixture
def admin(sandbox):
    """The account's administrator (the sandbox's operator): makes the stacks and changes them by hand."""
    return operator_clients(ACCOUNT)


@pytest.fixture
def cfn(admin):
    return admin("cloudformation")


def _created(cfn, name: str = "drifty") -> dict[str, str]:
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE)
    deadline = time.monotonic() + 30
    while cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline, "the stack never finished"
        time.sleep(0.2)
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}


def _detect(cfn, name: str = "drifty") -> tuple[dict, dict[str, dict]]:
    detection_id = cfn.detect_stack_drift(StackName=name)["StackDriftDetectionId"]
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    drifts = cfn.describe_stack_resource_drifts(StackName=name)["StackResourceDrifts"]
    return status, {d["LogicalResourceId"]: d for d in drifts}


def test_an_untouched_stack_is_in_sync_and_unsupported_types_are_not_listed(cfn):
    ids = _created(cfn)
    status, drifts = _detect(cfn)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    assert status["StackDriftStatus"] == "IN_SYNC"
    assert status["DriftedStackResourceCount"] == 0
    assert status["StackId"].startswith("arn:aws:cloudformation:")
    assert set(drifts) == {"Web", "Server", "Logs"}  # the topic's type is not checked, so not listed
    web = drifts["Web"]
    assert web["StackResourceDriftStatus"] == "IN_SYNC" and web["PhysicalResourceId"] == ids["Web"]
    assert web["ResourceType"] == "AWS::EC2::SecurityGroup" and web["PropertyDifferences"] == []
    expected = json.loads(web["ExpectedProperties"])
    assert expected["SecurityGroupIngress"][0] == {"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22",
                                                   "CidrIp": "10.0.0.0/8"}  # the parameter, resolved
    assert json.loads(web["ActualProperties"]) == expected
    assert json.loads(drifts["Server"]["ExpectedProperties"])["InstanceType"] == "t3.micro"  # the parameter
    one = cfn.detect_stack_resource_drift(StackName="drifty", LogicalResourceId="Topic")["StackResourceDrift"]
    assert one["StackResourceDriftStatus"] == "NOT_CHECKED"


def test_a_group_changed_outside_cloudformation_is_modified_with_the_path_and_both_values(cfn, admin):
    ids = _created(cfn)
    ec2 = admin("ec2")
    ec2.revoke_security_group_ingress(GroupId=ids["Web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    ec2.authorize_security_group_ingress(GroupId=ids["Web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.create_tags(Resources=[ids["Web"]], Tags=[{"Key": "role", "Value": "anything"}])
    status, drifts = _detect(cfn)
    assert status["StackDriftStatus"] == "DRIFTED" and status["DriftedStackResourceCount"] == 1
    web = drifts["Web"]
    assert web["StackResourceDriftStatus"] == "MODIFIED"
    differences = {(d["PropertyPath"], d["DifferenceType"]): d for d in web["PropertyDifferences"]}
    removed = differences["/SecurityGroupIngress/0", "REMOVE"]
    assert json.loads(removed["ExpectedValue"])["CidrIp"] == "10.0.0.0/8" and removed["ActualValue"] == "null"
    added = next(d for (path, kind), d in differences.items() if kind == "ADD")
    assert added["PropertyPath"].startswith("/SecurityGroupIngress/")
    assert json.loads(added["ActualValue"]) == {"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22",
                                                "CidrIp": "0.0.0.0/0"}
    tag = differences["/Tags/0/Value", "NOT_EQUAL"]
    assert (tag["ExpectedValue"], tag["ActualValue"]) == ("web", "anything")
    assert drifts["Server"]["StackResourceDriftStatus"] == "IN_SYNC"
    only_modified = cfn.describe_stack_resource_drifts(
        StackName="drifty", StackResourceDriftStatusFilters=["MODIFIED"])["StackResourceDrifts"]
    assert [d["LogicalResourceId"] for d in only_modified] == ["Web"]


def test_an_instance_and_a_bucket_changed_outside_are_modified(cfn, admin):
    ids = _created(cfn)
    ec2 = admin("ec2")
    ec2.stop_instances(InstanceIds=[ids["Server"]])
    ec2.modify_instance_attribute(InstanceId=ids["Server"], InstanceType={"Value": "m5.large"})
    admin("s3").put_bucket_versioning(
        Bucket=ids["Logs"], VersioningConfiguration={"Status": "Suspended"})
    _, drifts = _detect(cfn)
    server = drifts["Server"]["PropertyDifferences"]
    assert server == [{"PropertyPath": "/InstanceType", "ExpectedValue": "t3.micro", "ActualValue": "m5.large",
                       "DifferenceType": "NOT_EQUAL"}]
    assert drifts["Logs"]["PropertyDifferences"] == [{
        "PropertyPath": "/VersioningConfiguration/Status", "ExpectedValue": "Enabled", "ActualValue": "Suspended",
        "DifferenceType": "NOT_EQUAL"}]


def test_a_deleted_group_is_deleted(cfn, admin):
    ids = _created(cfn)
    ec2 = admin("ec2")
    ec2.terminate_instances(InstanceIds=[ids["Server"]])  # the group is in use until then
    ec2.delete_security_group(GroupId=ids["Web"])
    status, drifts = _detect(cfn)
    assert status["StackDriftStatus"] == "DRIFTED" and status["DriftedStackResourceCount"] == 2
    assert drifts["Web"]["StackResourceDriftStatus"] == "DELETED"
    assert "ActualProperties" not in drifts["Web"]
    assert drifts["Server"]["StackResourceDriftStatus"] == "DELETED"


def test_unknown_stacks_and_detections_are_refused_as_aws_refuses_them(cfn):
    with pytest.raises(ClientError) as caught:
        cfn.detect_stack_drift(StackName="nope")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert "Stack with id nope does not exist" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId="00000000-0000-0000-0000-000000000000")
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_drift_detection_needs_the_permission_in_iam(admin):
    """A caller without cloudformation:DetectStackDrift is refused as AWS refuses it (the sandbox enforces IAM)."""
    iam = admin("iam")
    iam.create_user(UserName="nodrift")
    iam.put_user_policy(UserName="nodrift", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudformation:DescribeStacks",
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName="nodrift")["AccessKey"]
    cfn = aws.client("cloudformation", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        cfn.detect_stack_drift(StackName="any")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert "cloudformation:DetectStackDrift" in caught.value.response["Error"]["Message"]
    assert cfn.describe_stacks()["Stacks"] == []  # what its policy allows, it may do
