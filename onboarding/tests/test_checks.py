"""The connection check against the sandbox AWS, which goes through the same kit and enforces IAM policies as AWS
does (the enforced_sandbox fixture): a bootstrapped account passes every line; each piece taken away fails its own line, naming what
is missing and how to fix it."""

import json

import pytest
from django.conf import settings

from audit.models import LogFile
from onboarding import services
from onboarding.models import ConnectionCheck
from portal.aws_permissions import PERMISSIONS
from portal.models import Account
from sandbox.bootstrap import bootstrap_from_portal
from sandbox.operator import operator_client

pytestmark = pytest.mark.django_db
PAYMENTS = "111111111111"


def _lines(check: ConnectionCheck) -> dict[str, dict]:
    return {line["key"]: line for line in check.lines}


def _check() -> ConnectionCheck:
    return services.check_now(account=Account.objects.get(account_id=PAYMENTS), user=None)


def test_a_connected_account_passes_every_line_and_a_new_one_waits_for_its_first_log_file(enforced_sandbox, people):
    bootstrap_from_portal()
    check = _check()
    lines = _lines(check)
    assert {k: v["status"] for k, v in lines.items() if v["status"] != "passed"} == {"arriving": "waiting"}, lines
    assert check.status == ConnectionCheck.Status.PASSED
    assert {"assume:reader", "assume:remediation", "assume:launch", "permissions:reader", "permissions:launch",
            "trail", "notifications", "boundary", "recorder:us-east-1"} <= set(lines)
    assert "assume:organizations" not in lines  # only in the management account
    assert lines["permissions:reader"]["detail"] == (
        f"{len(PERMISSIONS['reader'].operations)} of {len(PERMISSIONS['reader'].operations)} allowed")

    LogFile.objects.create(bucket=f"guardrail-cloudtrail-{PAYMENTS}", key="AWSLogs/x.json.gz", account_id=PAYMENTS)
    assert _lines(_check())["arriving"]["status"] == "passed"


def test_an_account_without_the_kit_fails_at_the_first_line_with_the_fix(enforced_sandbox, people):
    check = _check()
    lines = _lines(check)
    assert check.status == ConnectionCheck.Status.FAILED
    assert lines["assume:reader"]["status"] == "failed"
    assert "AccessDenied" in lines["assume:reader"]["detail"]
    assert "guardrail-member-account.yaml" in lines["assume:reader"]["fix"]
    assert lines["reader"]["detail"].startswith("Skipped")


def test_a_permission_taken_from_a_role_fails_its_line_naming_it(enforced_sandbox, people):
    bootstrap_from_portal()
    iam = operator_client("iam", PAYMENTS)  # the platform team's admin edits the role, as in the console
    role = settings.AWS_REMEDIATION_ROLE_NAME
    removed = "ec2:RevokeSecurityGroupIngress"
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    for arn in [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    kept = [op for op in PERMISSIONS["remediation"].operations if op != removed]
    iam.put_role_policy(RoleName=role, PolicyName="all-but-one", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": kept, "Resource": "*"}]}))

    lines = _lines(_check())
    assert lines["permissions:remediation"]["status"] == "failed"
    assert lines["permissions:remediation"]["detail"] == f"Not allowed: {removed}"
    assert lines["permissions:reader"]["status"] == "passed"


def test_a_stopped_trail_and_a_missing_notification_fail_their_lines(enforced_sandbox, people):
    bootstrap_from_portal()
    s3 = operator_client("s3", PAYMENTS)
    s3.put_bucket_notification_configuration(Bucket=f"guardrail-cloudtrail-{PAYMENTS}",
                                             NotificationConfiguration={})
    lines = _lines(_check())
    assert lines["notifications"]["status"] == "failed" and "does not notify" in lines["notifications"]["detail"]
    operator_client("cloudtrail", PAYMENTS).stop_logging(
        Name="guardrail-trail")
    lines = _lines(_check())
    assert lines["trail"]["status"] == "failed" and "start-logging" in lines["trail"]["fix"]


def test_files_announced_through_sns_and_an_organisation_trails_central_bucket_pass(enforced_sandbox, people):
    bootstrap_from_portal()
    sns = operator_client("sns", PAYMENTS)
    topic = sns.create_topic(Name="trail-files")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({  # S3 checks it
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "SNS:Publish",
            "Resource": topic,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::guardrail-cloudtrail-{PAYMENTS}"}}}]}))
    operator_client("s3", PAYMENTS).put_bucket_notification_configuration(
        Bucket=f"guardrail-cloudtrail-{PAYMENTS}", NotificationConfiguration={"TopicConfigurations": [{
            "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    lines = _lines(_check())
    assert lines["notifications"]["status"] == "passed" and topic in lines["notifications"]["detail"]

    LogFile.objects.create(bucket="org-trail", account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
                           key=f"AWSLogs/o-aa111bb222/{PAYMENTS}/CloudTrail/us-east-1/2026/12/07/x.json.gz")
    assert _lines(_check())["arriving"]["status"] == "passed"
