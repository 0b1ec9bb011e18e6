"""The sandbox's CloudFormation creates, updates and deletes the account kit's resource types as AWS does.

One stack holds every type (roles with inline, managed and boundary policies, a managed policy attached by its
Roles, the trail bucket with its policy and notification, the queue with its policy, the trail behind a
condition); the assertions read the live resources back through ordinary API calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from sandbox.testing import operator_clients

ACCOUNT = "222222222222"
BUCKET = f"kit-trail-{ACCOUNT}"
PORTAL = "arn:aws:iam::123456789012:user/guardrail-portal"

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  PortalPrincipalArn: {Type: String}
  ExternalId: {Type: String}
  TrailMode: {Type: String, Default: Create, AllowedValues: [Create, Organization]}
  ReadActions: {Type: CommaDelimitedList, Default: "ec2:DescribeInstances"}
Conditions:
  CreateTrail: !Equals [!Ref TrailMode, Create]
Resources:
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: KitBoundary
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: ["ec2:Describe*", "s3:GetObject"], Resource: "*"}]
  Extra:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: KitExtra
      Roles: [!Ref Reader]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: s3:GetObject, Resource: !Sub "arn:${AWS::Partition}:s3:::${Bucket}/*"}]
  Reader:
    Type: AWS::IAM::Role
    Properties:
      RoleName: KitReader
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Ref PortalPrincipalArn}
            Action: sts:AssumeRole
            Condition: {StringEquals: {"sts:ExternalId": !Ref ExternalId}}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: !Ref ReadActions, Resource: "*"}]
  Launch:
    Type: AWS::IAM::Role
    Properties:
      RoleName: KitLaunch
      PermissionsBoundary: !Ref Boundary
      ManagedPolicyArns: [!Ref Boundary]
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: cloudformation.amazonaws.com}, Action: sts:AssumeRole}]
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: kit-cloudtrail
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: s3.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
            Condition: {ArnLike: {"aws:SourceArn": !Sub "arn:${AWS::Partition}:s3:::kit-trail-${AWS::AccountId}"}}
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: QueuePolicy
    Properties:
      BucketName: !Sub "kit-trail-${AWS::AccountId}"
      PublicAccessBlockConfiguration:
        {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}
      BucketEncryption:
        ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}}]
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt Queue.Arn
            Filter: {S3Key: {Rules: [{Name: prefix, Value: AWSLogs/}]}}
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Sid: AclCheck, Effect: Allow, Principal: {Service: cloudtrail.amazonaws.com}, Action: s3:GetBucketAcl,
             Resource: !GetAtt Bucket.Arn}
          - {Sid: Write, Effect: Allow, Principal: {Service: cloudtrail.amazonaws.com}, Action: s3:PutObject,
             Resource: !Sub "${Bucket.Arn}/AWSLogs/${AWS::AccountId}/*"}
  Trail:
    Type: AWS::CloudTrail::Trail
    Condition: CreateTrail
    DependsOn: BucketPolicy
    Properties:
      TrailName: kit-trail
      S3BucketName: !Ref Bucket
      IsLogging: true
      IsMultiRegionTrail: true
      IncludeGlobalServiceEvents: !If [CreateTrail, true, false]
      EnableLogFileValidation: true
Outputs:
  QueueArn: {Value: !GetAtt Queue.Arn}
  QueueUrl: {Value: !Ref Queue}
  LaunchRoleArn: {Value: !GetAtt Launch.Arn}
  BoundaryArn: {Value: !GetAtt Boundary.PolicyArn}
"""


def _parameters(**values: str) -> list[dict[str, str]]:
    values = {"PortalPrincipalArn": PORTAL, "ExternalId": "kit-test", "ReadActions": "ec2:DescribeInstances",
              **values}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _document(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
def clients(sandbox):
    """client(service) acting as ACCOUNT's administrator, who deploys the stacks (as a platform team does)."""
    return operator_clients(ACCOUNT)


def _create(clients, template: str = TEMPLATE, **parameters: str) -> str:
    cfn = clients("cloudformation")
    cfn.create_stack(StackName="kit", TemplateBody=template, Parameters=_parameters(**parameters),
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    return cfn.describe_stacks(StackName="kit")["Stacks"][0]["StackStatus"]


def _failure(clients) -> str:
    """The CREATE_FAILED resource's reason."""
    events = clients("cloudformation").describe_stack_events(StackName="kit")["StackEvents"]
    return next(e["ResourceStatusReason"] for e in events if e["ResourceStatus"] == "CREATE_FAILED")


def _messages(sqs, url: str) -> list[dict]:
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def test_one_stack_creates_every_kit_type_live(sandbox, clients):
    assert _create(clients) == "CREATE_COMPLETE"
    cfn, iam, s3, sqs, cloudtrail = (clients(s) for s in ("cloudformation", "iam", "s3", "sqs", "cloudtrail"))

    resources = {r["LogicalResourceId"]: r for r in cfn.describe_stack_resources(StackName="kit")["StackResources"]}
    assert set(resources) == {"Boundary", "Extra", "Reader", "Launch", "Queue", "QueuePolicy", "Bucket",
                              "BucketPolicy", "Trail"}
    assert resources["Trail"]["PhysicalResourceId"] == "kit-trail"
    assert resources["Bucket"]["ResourceType"] == "AWS::S3::Bucket"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="kit")["Stacks"][0]["Outputs"]}
    assert outputs["LaunchRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/KitLaunch"
    assert outputs["BoundaryArn"] == f"arn:aws:iam::{ACCOUNT}:policy/KitBoundary"

    # roles: trust with the ExternalId, inline policy as JSON, managed policies, the boundary
    reader = iam.get_role(RoleName="KitReader")["Role"]
    trust = _document(reader["AssumeRolePolicyDocument"])["Statement"][0]
    assert trust["Principal"] == {"AWS": PORTAL}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "kit-test"}}
    inline = _document(iam.get_role_policy(RoleName="KitReader", PolicyName="read")["PolicyDocument"])
    assert inline["Statement"][0]["Action"] == ["ec2:DescribeInstances"]
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="KitReader")["AttachedPolicies"]] \
        == ["KitExtra"]
    extra = iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/KitExtra")["Policy"]
    version = iam.get_policy_version(PolicyArn=extra["Arn"], VersionId=extra["DefaultVersionId"])["PolicyVersion"]
    assert _document(unquote_plus(version["Document"]) if isinstance(version["Document"], str)
                     else version["Document"])["Statement"][0]["Resource"] == f"arn:aws:s3:::{BUCKET}/*"
    launch = iam.get_role(RoleName="KitLaunch")["Role"]
    assert launch["PermissionsBoundary"]["PermissionsBoundaryArn"] == outputs["BoundaryArn"]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="KitLaunch")["AttachedPolicies"]] \
        == [outputs["BoundaryArn"]]

    # the bucket, its policy and its settings
    policy = _document(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"AclCheck", "Write"}
    assert policy["Statement"][1]["Resource"] == f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*"
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    # the queue and its policy
    url = sqs.get_queue_url(QueueName="kit-cloudtrail")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"
    statement = _document(attributes["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Resource"] == outputs["QueueArn"]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{BUCKET}"

    # the trail: multi-region, logging, to the bucket
    trail = cloudtrail.get_trail(Name="kit-trail")["Trail"]
    assert trail["S3BucketName"] == BUCKET and trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert cloudtrail.get_trail_status(Name="kit-trail")["IsLogging"] is True

    # the notification: S3's test event when configured, then one message per new object under AWSLogs/
    configured = s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"]
    assert [q["QueueArn"] for q in configured] == [outputs["QueueArn"]]
    messages = _messages(sqs, url)
    assert messages[0].get("Event") == "s3:TestEvent"
    key = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/07/file.json.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key="elsewhere/file.txt", Body=b"x")
    # and the trail the stack made delivers the account's activity there, announced the same way
    iam.list_roles()
    sandbox.flush()
    messages += _messages(sqs, url)
    announced = [unquote_plus(r["s3"]["object"]["key"]) for m in messages for r in m.get("Records", [])
                 if r["eventName"] == "ObjectCreated:Put"]
    assert key in announced and "elsewhere/file.txt" not in announced
    delivered = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/")[
        "Contents"] if o["Key"] != key]
    assert delivered and set(delivered) <= set(announced)

def test_a_false_condition_leaves_the_trail_out(clients):
    assert _create(clients, TrailMode="Organization") == "CREATE_COMPLETE"
    with pytest.raises(ClientError, match="TrailNotFound"):
        clients("cloudtrail").get_trail(Name="kit-trail")
    logical = {r["LogicalResourceId"] for r in
               clients("cloudformation").describe_stack_resources(StackName="kit")["StackResources"]}
    assert "Trail" not in logical and "Bucket" in logical


def _empty(s3, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])


def test_an_update_changes_policies_in_place_and_delete_removes_everything(sandbox, clients):
    _create(clients)
    cfn, iam, s3, sqs, cloudtrail = (clients(s) for s in ("cloudformation", "iam", "s3", "sqs", "cloudtrail"))
    reader_id = iam.get_role(RoleName="KitReader")["Role"]["RoleId"]
    changed = (TEMPLATE.replace('"ec2:Describe*", "s3:GetObject"', '"ec2:Describe*"')
               .replace("      ManagedPolicyArns: [!Ref Boundary]\n", "")
               .replace("IsLogging: true", "IsLogging: false"))
    cfn.update_stack(StackName="kit", TemplateBody=changed, Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=_parameters(ReadActions="ec2:DescribeInstances,ec2:DescribeVpcs"))
    assert cfn.describe_stacks(StackName="kit")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert iam.get_role(RoleName="KitReader")["Role"]["RoleId"] == reader_id  # updated, not replaced
    inline = _document(iam.get_role_policy(RoleName="KitReader", PolicyName="read")["PolicyDocument"])
    assert inline["Statement"][0]["Action"] == ["ec2:DescribeInstances", "ec2:DescribeVpcs"]
    assert iam.list_attached_role_policies(RoleName="KitLaunch")["AttachedPolicies"] == []
    boundary = iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/KitBoundary")["Policy"]
    assert boundary["DefaultVersionId"] == "v2"
    assert cloudtrail.get_trail_status(Name="kit-trail")["IsLogging"] is False
    url = sqs.get_queue_url(QueueName="kit-cloudtrail")["QueueUrl"]
    assert "Policy" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]

    s3.put_object(Bucket=BUCKET, Key="AWSLogs/x", Body=b"x")
    cfn.delete_stack(StackName="kit")  # as in AWS: the stack cannot delete a bucket with objects in it
    assert cfn.describe_stacks(StackName="kit")["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    events = cfn.describe_stack_events(StackName="kit")["StackEvents"]
    # as AWS reports it: the stack's event names what failed, the resource's own event says why
    assert events[0]["ResourceStatusReason"] == "The following resource(s) failed to delete: [Bucket]. "
    bucket_failed = [e for e in events if e["LogicalResourceId"] == "Bucket" and e["ResourceStatus"] == "DELETE_FAILED"]
    assert "not empty" in bucket_failed[0]["ResourceStatusReason"]
    assert [r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName="kit")["StackResources"]] \
        == ["Bucket"]
    sandbox.flush()  # the trail's last files
    _empty(s3, BUCKET)
    stack_id = cfn.describe_stacks(StackName="kit")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="kit")
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("Kit")] == []
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == []
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert cloudtrail.describe_trails()["trailList"] == []


def test_a_notification_to_a_queue_s3_may_not_send_to_fails_as_in_aws(clients):
    without_policy = TEMPLATE.replace("    DependsOn: QueuePolicy\n", "").replace(
        "      Queues: [!Ref Queue]\n", "      Queues: [!Ref Other]\n").replace(
        "Resources:\n", "Resources:\n  Other:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: kit-other}\n", 1)
    assert _create(clients, without_policy) == "ROLLBACK_COMPLETE"  # CloudFormation rolls back, as in AWS
    assert "Unable to validate the following destination" in _failure(clients)


def test_a_trail_whose_bucket_policy_does_not_let_cloudtrail_write_fails_as_in_aws(clients):
    assert _create(clients, TEMPLATE.replace("Action: s3:PutObject", "Action: s3:GetObject")) == "ROLLBACK_COMPLETE"
    assert "InsufficientS3BucketPolicy" in _failure(clients)


def test_a_property_the_sandbox_does_not_implement_is_named_not_dropped_silently(clients, caplog):
    assert _create(clients, TEMPLATE.replace("      BucketEncryption:\n", "      AccessControl: PublicRead\n"
                   "      LoggingConfiguration: {LogFilePrefix: x/}\n      BucketEncryption:\n")) == "CREATE_COMPLETE"
    assert "AWS::S3::Bucket properties not implemented, left out: LoggingConfiguration" in caplog.text
    grants = clients("s3").get_bucket_acl(Bucket=BUCKET)["Grants"]
    assert {g["Permission"] for g in grants if g["Grantee"].get("URI", "").endswith("/global/AllUsers")} == {"READ"}


KIT = Path(__file__).resolve().parents[2] / "deploy" / "aws"


def _kit_resources(name: str, *, trail: bool = True, has: tuple[str, ...] = ()) -> set[str]:
    """The template's resources whose condition holds (CreateTrail, HasPortalUser... as given)."""
    from catalog.cfn.loader import load_template  # noqa: PLC0415  (the portal's CloudFormation YAML reader)

    resources = load_template((KIT / name).read_text()).template["Resources"]
    holds = {"CreateTrail": trail, "InHomeRegion": True, **{c: True for c in has}}
    return {k for k, r in resources.items() if holds.get(r.get("Condition"), "Condition" not in r)}


@pytest.mark.parametrize("mode", ["Create", "Organization"])
def test_the_member_kit_creates_in_the_sandbox(clients, mode, caplog):
    cfn = clients("cloudformation")
    parameters = {"TrailMode": mode} | ({"OrganizationTrailBucket": "org-trail-bucket"} if mode == "Organization"
                                        else {})
    cfn.create_stack(StackName="guardrail-member-account",
                     TemplateBody=(KIT / "guardrail-member-account.yaml").read_text(),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in
                                 {"PortalPrincipalArn": PORTAL, "ExternalId": "kit-test", **parameters}.items()],
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = cfn.describe_stacks(StackName="guardrail-member-account")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "not implemented" not in caplog.text  # every property the kit uses is made
    listed = {r["LogicalResourceId"] for r in
              cfn.describe_stack_resources(StackName="guardrail-member-account")["StackResources"]}
    assert listed == _kit_resources("guardrail-member-account.yaml", trail=mode == "Create")
    iam = clients("iam")
    for role in ("GuardrailPortal", "GuardrailRemediation", "GuardrailLaunch"):
        assert iam.list_role_policies(RoleName=role)["PolicyNames"], role
    assert iam.get_role(RoleName="GuardrailLaunch")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] \
        == f"arn:aws:iam::{ACCOUNT}:policy/GuardrailLaunchBoundary"
    if mode == "Create":
        assert clients("cloudtrail").get_trail_status(Name="guardrail-trail")["IsLogging"] is True
        notification = clients("s3").get_bucket_notification_configuration(Bucket=f"guardrail-cloudtrail-{ACCOUNT}")
        assert notification["QueueConfigurations"][0]["QueueArn"].endswith(f":{ACCOUNT}:guardrail-cloudtrail")
    else:
        assert clients("cloudtrail").describe_trails()["trailList"] == []


def test_the_management_kit_creates_in_the_sandbox_and_attaches_to_the_portal_user(sandbox, caplog):
    from django.conf import settings

    admin = operator_clients(settings.AWS_MANAGEMENT_ACCOUNT_ID)  # the platform team deploys the kit
    cfn = admin("cloudformation")
    cfn.create_stack(StackName="guardrail-management-account",
                     TemplateBody=(KIT / "guardrail-management-account.yaml").read_text(),
                     Parameters=[{"ParameterKey": "PortalPrincipalArn", "ParameterValue": PORTAL},
                                 {"ParameterKey": "ExternalId", "ParameterValue": "kit-test"},
                                 {"ParameterKey": "PortalUserName", "ParameterValue": "guardrail-portal"},
                                 {"ParameterKey": "OrganizationId", "ParameterValue": "o-kittest0001"}],
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    assert cfn.describe_stacks(StackName="guardrail-management-account")["Stacks"][0]["StackStatus"] \
        == "CREATE_COMPLETE"
    assert "not implemented" not in caplog.text
    iam = admin("iam")
    attached = iam.list_attached_user_policies(UserName="guardrail-portal")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["GuardrailPortalAssume"]
    assert iam.get_role(RoleName="GuardrailOrganizations")["Role"]["RoleName"] == "GuardrailOrganizations"
    # the real-time path: the bus takes the organisation's events, the rule puts them on the queue
    events, sqs = admin("events"), admin("sqs")
    policy = json.loads(events.describe_event_bus(Name="default")["Policy"])
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "GuardrailOrganisationPutsEvents"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-kittest0001"}}
    queue_arn = f"arn:aws:sqs:us-east-1:{settings.AWS_MANAGEMENT_ACCOUNT_ID}:guardrail-events"
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule="guardrail-events")["Targets"]] == [queue_arn]
    url = sqs.get_queue_url(QueueName="guardrail-events")["QueueUrl"]
    queue_policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert queue_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == \
        events.describe_rule(Name="guardrail-events")["Arn"]


@pytest.mark.parametrize("home", ["", "eu-west-1"])
def test_the_member_kit_forwards_events_to_the_management_bus_with_a_role(clients, home):
    """In its home region the kit makes everything plus the forwarding rule; in another region only the rule and
    its role, the rule sending to the management account's bus in the home region."""
    cfn = clients("cloudformation")
    values = {"PortalPrincipalArn": PORTAL, "ExternalId": "kit-test", "ManagementAccountId": "123456789012",
              "HomeRegion": home}
    cfn.create_stack(StackName="guardrail-member-account", TemplateBody=(KIT / "guardrail-member-account.yaml").read_text(),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    assert cfn.describe_stacks(StackName="guardrail-member-account")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    listed = {r["LogicalResourceId"] for r in
              cfn.describe_stack_resources(StackName="guardrail-member-account")["StackResources"]}
    assert {"ForwardEventsRule", "ForwardEventsRole"} <= listed
    assert ("PortalRole" in listed) is (home == "")
    [target] = clients("events").list_targets_by_rule(Rule="guardrail-events-forward")["Targets"]
    assert target["Arn"] == f"arn:aws:events:{home or 'us-east-1'}:123456789012:event-bus/default"
    role = target["RoleArn"].rsplit("/", 1)[-1]
    [policy] = clients("iam").list_role_policies(RoleName=role)["PolicyNames"]
    document = clients("iam").get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    assert document["Statement"][0]["Action"] == "events:PutEvents"
    assert document["Statement"][0]["Resource"] == target["Arn"]


def test_switching_the_member_kit_to_the_organisation_trail_and_back(sandbox, clients):
    cfn, s3, sqs, cloudtrail = (clients(s) for s in ("cloudformation", "s3", "sqs", "cloudtrail"))
    template = (KIT / "guardrail-member-account.yaml").read_text()

    def deploy(call, mode: str) -> None:
        values = {"PortalPrincipalArn": PORTAL, "ExternalId": "kit-test", "TrailMode": mode,
                  "OrganizationTrailBucket": "org-trail-bucket" if mode == "Organization" else ""}
        call(StackName="guardrail-member-account", TemplateBody=template, Capabilities=["CAPABILITY_NAMED_IAM"],
             Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])

    def source_arn() -> str:
        url = sqs.get_queue_url(QueueName="guardrail-cloudtrail")["QueueUrl"]
        policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
        return policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]

    bucket = f"guardrail-cloudtrail-{ACCOUNT}"
    deploy(cfn.create_stack, "Create")
    assert source_arn() == f"arn:aws:s3:::{bucket}"
    cloudtrail.stop_logging(Name="guardrail-trail")  # so that the bucket can be emptied for good
    sandbox.flush()
    _empty(s3, bucket)

    deploy(cfn.update_stack, "Organization")
    assert cfn.describe_stacks(StackName="guardrail-member-account")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert cloudtrail.describe_trails()["trailList"] == []
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert source_arn() == "arn:aws:s3:::org-trail-bucket"
    listed = {r["LogicalResourceId"] for r in
              cfn.describe_stack_resources(StackName="guardrail-member-account")["StackResources"]}
    assert listed == _kit_resources("guardrail-member-account.yaml", trail=False)

    deploy(cfn.update_stack, "Create")
    assert cloudtrail.get_trail_status(Name="guardrail-trail")["IsLogging"] is True
    assert source_arn() == f"arn:aws:s3:::{bucket}"
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]


def test_the_member_kit_lets_the_queue_hear_from_a_notification_topic(sandbox, clients):
    cfn, sqs = clients("cloudformation"), clients("sqs")
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:trail-files"
    values = {"PortalPrincipalArn": PORTAL, "ExternalId": "kit-test", "TrailNotificationSourceArn": topic}
    cfn.create_stack(StackName="guardrail-member-account", Capabilities=["CAPABILITY_NAMED_IAM"],
                     TemplateBody=(KIT / "guardrail-member-account.yaml").read_text(),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])
    url = sqs.get_queue_url(QueueName="guardrail-cloudtrail")["QueueUrl"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["TrailBucketNotifies"]["Condition"]["ArnLike"]["aws:SourceArn"] == \
        f"arn:aws:s3:::guardrail-cloudtrail-{ACCOUNT}"
    assert by_sid["TrailNotificationSourceNotifies"]["Condition"]["ArnLike"]["aws:SourceArn"] == topic
    assert sorted(by_sid["TrailNotificationSourceNotifies"]["Principal"]["Service"]) == [
        "events.amazonaws.com", "sns.amazonaws.com"]
