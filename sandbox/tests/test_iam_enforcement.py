"""The sandbox enforces callers' IAM policies as AWS does: users, assumed roles, boundaries, explicit denies, role
trust with ExternalId, iam:SimulatePrincipalPolicy, refusals in CloudTrail, and `sandbox_account`."""

import io
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from moto.iam.models import iam_backends

from portal import aws
from sandbox.bootstrap import bootstrap_from_portal, trail_bucket
from sandbox.iam_policy import PolicySource, Principal, Request, conditions_hold, evaluate
from sandbox.iam_requests import iam_action
from sandbox.organization import ACCESS_ROLE_NAME
from sandbox.testing import trail_records

MANAGEMENT = settings.AWS_MANAGEMENT_ACCOUNT_ID
MEMBER = "444444444444"


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _operator(server, service):
    creds = server.operator_credentials
    return aws.client(service, access_key_id=creds.access_key_id, secret_access_key=creds.secret_access_key)


def _user(server, name, *statements):
    """An IAM user in the management account with these inline statements; its own clients."""
    iam = _operator(server, "iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="test", PolicyDocument=_doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: aws.client(service, access_key_id=key["AccessKeyId"],
                                      secret_access_key=key["SecretAccessKey"], max_attempts=1)


def _role(server, name, *statements, trust=None, boundary=None):
    """A role in the management account the portal may assume (its principal, the ExternalId)."""
    iam = _operator(server, "iam")
    trust = trust or {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": settings.AWS_PORTAL_PRINCIPAL_ARN}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": settings.AWS_EXTERNAL_ID}}}]}
    options = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **options)
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="test", PolicyDocument=_doc(*statements))
    return f"arn:aws:iam::{MANAGEMENT}:role/{name}"


def _error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_a_user_may_do_what_its_policies_allow_and_nothing_else(enforced_sandbox):
    clients = _user(enforced_sandbox, "reader", {"Effect": "Allow", "Action": "EC2:describe*", "Resource": "*"})
    assert clients("ec2").describe_instances()["Reservations"] == []  # actions compare case-insensitively
    with pytest.raises(aws.ClientError) as refused:
        clients("ec2").create_security_group(GroupName="x", Description="x")
    assert _error(refused) == ("UnauthorizedOperation", (
        f"You are not authorized to perform this operation. User: arn:aws:iam::{MANAGEMENT}:user/reader is not "
        "authorized to perform: ec2:CreateSecurityGroup because no identity-based policy allows the "
        "ec2:CreateSecurityGroup action"))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(aws.ClientError) as refused:
        clients("s3").create_bucket(Bucket="reader-bucket")
    assert _error(refused) == ("AccessDenied", (
        f"User: arn:aws:iam::{MANAGEMENT}:user/reader is not authorized to perform: s3:CreateBucket on resource: "
        "arn:aws:s3:::reader-bucket because no identity-based policy allows the s3:CreateBucket action"))
    with pytest.raises(aws.ClientError) as refused:
        clients("config").describe_configuration_recorders()
    assert _error(refused)[0] == "AccessDeniedException"
    assert clients("sts").get_caller_identity()["Arn"].endswith(":user/reader")  # always allowed, as in AWS


def test_a_users_group_policies_count(enforced_sandbox):
    iam = _operator(enforced_sandbox, "iam")
    clients = _user(enforced_sandbox, "grouped")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}))
    with pytest.raises(aws.ClientError):
        clients("sqs").list_queues()
    iam.add_user_to_group(GroupName="readers", UserName="grouped")
    clients("sqs").list_queues()


def test_an_assumed_role_has_its_roles_policies(enforced_sandbox):
    _role(enforced_sandbox, "GuardrailReader", {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    s3 = aws.client("s3", account_id=MANAGEMENT, role_name="GuardrailReader", session_name="guardrail-recorder")
    assert s3.list_buckets()["Buckets"] == []
    ec2 = aws.client("ec2", account_id=MANAGEMENT, role_name="GuardrailReader", session_name="guardrail-recorder")
    with pytest.raises(aws.ClientError) as refused:
        ec2.describe_instances()
    assert _error(refused) == ("UnauthorizedOperation", (
        "You are not authorized to perform this operation. User: "
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/GuardrailReader/guardrail-recorder is not authorized to perform: "
        "ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action"))


def test_the_portals_own_user_may_only_assume_the_guardrail_roles(enforced_sandbox):
    with pytest.raises(aws.ClientError) as refused:
        aws.client("s3", max_attempts=1).list_buckets()
    assert _error(refused)[1].startswith(f"User: {settings.AWS_PORTAL_PRINCIPAL_ARN} is not authorized to perform: "
                                         "s3:ListAllMyBuckets because no identity-based policy allows")
    other = "555555555555"  # another account: there the portal's own policy must allow the AssumeRole too
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": settings.AWS_PORTAL_PRINCIPAL_ARN}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": settings.AWS_EXTERNAL_ID}}}]})
    for name in ("NotGuardrail", "GuardrailThere"):
        iam_backends[other]["global"].create_role(name, trust, path="/", permissions_boundary=None, description="",
                                                  tags=[], max_session_duration="3600")
    with pytest.raises(aws.ClientError) as refused:
        aws.client("s3", account_id=other, role_name="NotGuardrail").list_buckets()
    assert _error(refused) == ("AccessDenied", (
        f"User: {settings.AWS_PORTAL_PRINCIPAL_ARN} is not authorized to perform: sts:AssumeRole on resource: "
        f"arn:aws:iam::{other}:role/NotGuardrail"))
    with pytest.raises(aws.ClientError) as refused:  # assumed, but the role itself allows nothing
        aws.client("s3", account_id=other, role_name="GuardrailThere").list_buckets()
    assert "assumed-role/GuardrailThere/guardrail-portal" in _error(refused)[1]
    # In its own account a trust naming the portal's ARN is enough, as in AWS.
    _role(enforced_sandbox, "NotGuardrailHere", {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    aws.client("s3", account_id=MANAGEMENT, role_name="NotGuardrailHere").list_buckets()


def test_a_permissions_boundary_caps_a_role(enforced_sandbox):
    boundary = _operator(enforced_sandbox, "iam").create_policy(PolicyName="OnlyS3", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
    _role(enforced_sandbox, "GuardrailBounded", {"Effect": "Allow", "Action": "*", "Resource": "*"},
          boundary=boundary)
    aws.client("s3", account_id=MANAGEMENT, role_name="GuardrailBounded").list_buckets()
    with pytest.raises(aws.ClientError) as refused:
        aws.client("sqs", account_id=MANAGEMENT, role_name="GuardrailBounded", max_attempts=1).list_queues()
    assert _error(refused)[1].endswith(
        "is not authorized to perform: sqs:ListQueues because no permissions boundary allows the sqs:ListQueues action")


def test_an_explicit_deny_wins_on_the_resources_it_names(enforced_sandbox):
    clients = _user(enforced_sandbox, "careful", {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::keep-*"})
    s3 = clients("s3")
    for bucket in ("keep-me", "scratch"):
        s3.create_bucket(Bucket=bucket)
    s3.delete_bucket(Bucket="scratch")
    with pytest.raises(aws.ClientError) as refused:
        s3.delete_bucket(Bucket="keep-me")
    assert _error(refused) == ("AccessDenied", (
        f"User: arn:aws:iam::{MANAGEMENT}:user/careful is not authorized to perform: s3:DeleteBucket on resource: "
        "arn:aws:s3:::keep-me with an explicit deny in an identity-based policy"))
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep-me"]


def test_a_deny_with_an_unknown_condition_key_does_not_apply():
    principal = Principal("arn:aws:iam::111111111111:user/u", "111111111111", (), None)
    held = conditions_hold({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, {})
    assert not held.holds and held.missing == ["aws:SourceVpce"]
    assert conditions_hold({"StringNotEquals": {"sts:ExternalId": "x"}}, {}).holds  # known key, absent: negated holds
    assert not conditions_hold({"StringEquals": {"sts:ExternalId": "x"}}, {}).holds
    assert conditions_hold({"StringEqualsIfExists": {"sts:ExternalId": "x"}}, {}).holds
    assert conditions_hold({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/u"}},
                           {"aws:principalarn": ("arn:aws:iam::1:user/u",)}).holds
    source = PolicySource("p", "user", {"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},  # a key the sandbox does not know
    ]})
    principal = Principal(principal.arn, principal.account_id, (source,), None)
    assert evaluate(principal, Request("ec2:DescribeInstances")).allowed
    assert iam_action("s3", "HeadBucket") == "s3:ListBucket"


def test_assume_role_checks_the_trust_and_the_external_id(enforced_sandbox):
    role = _role(enforced_sandbox, "GuardrailTrusting", {"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                                          "Resource": "*"})
    sts = aws.client("sts", max_attempts=1)
    for kwargs in ({}, {"ExternalId": "not-the-one"}):
        with pytest.raises(aws.ClientError) as refused:
            sts.assume_role(RoleArn=role, RoleSessionName="s1", **kwargs)
        assert _error(refused) == ("AccessDenied", (
            f"User: {settings.AWS_PORTAL_PRINCIPAL_ARN} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role}"))
    assert sts.assume_role(RoleArn=role, RoleSessionName="s1", ExternalId=settings.AWS_EXTERNAL_ID)["Credentials"]
    missing = f"arn:aws:iam::{MANAGEMENT}:role/GuardrailMissing"
    with pytest.raises(aws.ClientError) as refused:
        sts.assume_role(RoleArn=missing, RoleSessionName="s1", ExternalId=settings.AWS_EXTERNAL_ID)
    assert _error(refused)[1].endswith(f"on resource: {missing}")
    service_only = _role(enforced_sandbox, "GuardrailServiceOnly", trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    with pytest.raises(aws.ClientError):
        sts.assume_role(RoleArn=service_only, RoleSessionName="s1", ExternalId=settings.AWS_EXTERNAL_ID)


def test_an_account_trust_needs_the_callers_own_permission(enforced_sandbox):
    account_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}, "Action": "sts:AssumeRole"}]}
    role = _role(enforced_sandbox, "AccountTrusting", trust=account_trust)
    allowed = _user(enforced_sandbox, "assumer", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role})
    other = _user(enforced_sandbox, "bystander", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert allowed("sts").assume_role(RoleArn=role, RoleSessionName="ok")["AssumedRoleUser"]["Arn"].endswith("/ok")
    with pytest.raises(aws.ClientError):
        other("sts").assume_role(RoleArn=role, RoleSessionName="no")


def test_simulate_principal_policy_through_boto3(enforced_sandbox):
    boundary = _operator(enforced_sandbox, "iam").create_policy(PolicyName="NoSqs", PolicyDocument=_doc(
        {"Effect": "Allow", "NotAction": "sqs:*", "Resource": "*"}))["Policy"]["Arn"]
    role = _role(enforced_sandbox, "GuardrailSimulated",
                 {"Effect": "Allow", "Action": ["s3:Get*", "sqs:ListQueues"], "Resource": "*"},
                 {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"},
                 boundary=boundary)
    iam = _operator(enforced_sandbox, "iam")
    results = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["s3:GetObject", "ec2:DescribeInstances", "sqs:ListQueues"],
        ResourceArns=["arn:aws:s3:::public/a", "arn:aws:s3:::secret/b"])["EvaluationResults"]
    decisions = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}
    assert decisions == {
        ("s3:GetObject", "arn:aws:s3:::public/a"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::secret/b"): "explicitDeny",
        ("ec2:DescribeInstances", "arn:aws:s3:::public/a"): "implicitDeny",
        ("ec2:DescribeInstances", "arn:aws:s3:::secret/b"): "implicitDeny",
        ("sqs:ListQueues", "arn:aws:s3:::public/a"): "implicitDeny",  # the boundary does not allow it
        ("sqs:ListQueues", "arn:aws:s3:::secret/b"): "implicitDeny",
    }
    allowed = next(r for r in results if r["EvalDecision"] == "allowed")
    assert [(s["SourcePolicyId"], s["SourcePolicyType"]) for s in allowed["MatchedStatements"]] == [("test", "role")]
    assert allowed["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    [whole] = iam.simulate_principal_policy(PolicySourceArn=settings.AWS_PORTAL_PRINCIPAL_ARN,
                                            ActionNames=["sts:AssumeRole"])["EvaluationResults"]
    assert (whole["EvalResourceName"], whole["EvalDecision"]) == ("*", "allowed")
    with pytest.raises(aws.ClientError) as refused:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{MANAGEMENT}:user/nobody",
                                      ActionNames=["s3:GetObject"])
    assert _error(refused)[0] == "NoSuchEntity"
    # Asking is itself an IAM action the caller needs.
    with pytest.raises(aws.ClientError) as refused:
        _user(enforced_sandbox, "curious")("iam").simulate_principal_policy(PolicySourceArn=role,
                                                                            ActionNames=["s3:GetObject"])
    assert "iam:SimulatePrincipalPolicy" in _error(refused)[1]


def test_simulate_principal_policy_works_without_enforcement(sandbox):
    sandbox.enforce_iam = False  # as `manage.py sandbox` serves with SANDBOX_ENFORCE_IAM=false (the fixture turns it
    # on again for the next test): this test is about the sandbox itself, not the portal
    [result] = _operator(sandbox, "iam").simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{MANAGEMENT}:user/sandbox-operator",
        ActionNames=["ec2:RunInstances"])["EvaluationResults"]
    assert result["EvalDecision"] == "allowed"


def test_a_refused_call_is_in_cloudtrail_with_its_error(enforced_sandbox):
    s3, cloudtrail = _operator(enforced_sandbox, "s3"), _operator(enforced_sandbox, "cloudtrail")
    s3.create_bucket(Bucket="mgmt-trail")
    cloudtrail.create_trail(Name="mgmt-trail", S3BucketName="mgmt-trail", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="mgmt-trail")
    clients = _user(enforced_sandbox, "nosy")
    with pytest.raises(aws.ClientError):
        clients("ec2").describe_security_groups()
    with pytest.raises(aws.ClientError):
        clients("iam").list_users()
    records = {r["eventName"]: r for r in trail_records("mgmt-trail", enforced_sandbox)
               if r["userIdentity"].get("userName") == "nosy"}
    assert records["DescribeSecurityGroups"]["errorCode"] == "Client.UnauthorizedOperation"
    assert records["DescribeSecurityGroups"]["errorMessage"].startswith(
        "You are not authorized to perform this operation. User: arn:aws:iam::")
    assert records["ListUsers"]["errorCode"] == "AccessDenied"
    assert records["ListUsers"]["errorMessage"] == (
        f"User: arn:aws:iam::{MANAGEMENT}:user/nosy is not authorized to perform: iam:ListUsers because no "
        "identity-based policy allows the iam:ListUsers action")
    assert records["ListUsers"]["responseElements"] is None


def test_the_bootstrap_works_under_enforcement(enforced_sandbox, people):
    bootstrap_from_portal()
    iam = aws.client("iam", account_id="111111111111")  # the portal, through its GuardrailPortal role
    assert iam.get_role(RoleName=ACCESS_ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"] == {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}
    assert aws.client("cloudtrail", account_id="111111111111").get_trail_status(Name="guardrail-trail")["IsLogging"]


def test_sandbox_account_adds_a_member_with_the_kit(enforced_sandbox, people):
    out = io.StringIO()
    call_command("sandbox_account", MEMBER, name="research-sandbox", team="research", stdout=out)
    text = out.getvalue()
    assert f"created  {MEMBER} IAM role {ACCESS_ROLE_NAME}" in text
    assert f"created  {MEMBER} CloudFormation stack guardrail-member-account" in text  # the kit, as a StackSet
    assert "Admin → Accounts → Connect" in text
    org = _operator(enforced_sandbox, "organizations")
    assert {a["Id"]: a["Name"] for a in org.list_accounts()["Accounts"]}[MEMBER] == "research-sandbox"
    assert org.list_tags_for_resource(ResourceId=MEMBER)["Tags"] == [{"Key": "team", "Value": "research"}]
    # The portal reaches it exactly as it would a real member: its own user → GuardrailPortal, with the ExternalId.
    assert aws.client("cloudtrail", account_id=MEMBER).get_trail_status(Name="guardrail-trail")["IsLogging"]
    assert aws.client("s3", account_id=MEMBER).head_bucket(Bucket=trail_bucket(MEMBER))
    # ... and the operator through OrganizationAccountAccessRole.
    sts = _operator(enforced_sandbox, "sts")
    assert sts.assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/{ACCESS_ROLE_NAME}", RoleSessionName="op")
    again = io.StringIO()
    call_command("sandbox_account", MEMBER, name="research-sandbox", team="research", stdout=again)
    assert "0 created" in again.getvalue()


def test_sandbox_account_refuses_bad_input(enforced_sandbox, people):
    with pytest.raises(CommandError, match="12 digits"):
        call_command("sandbox_account", "12345", name="x", team="research")
    with pytest.raises(CommandError, match="No team with slug 'nope'"):
        call_command("sandbox_account", MEMBER, name="x", team="nope")
    with pytest.raises(CommandError, match="management account"):
        call_command("sandbox_account", MANAGEMENT, name="x", team="research")
