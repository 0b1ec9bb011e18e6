"""A person's own calls, and the portal's, become CloudTrail records in the trail's bucket."""

import io
import json
import re
import time

import pytest
from django.conf import settings
from django.core.management import call_command

from portal import aws
from sandbox.bootstrap import AccountSpec, bootstrap, trail_bucket
from sandbox.people import person_of
from sandbox.testing import kit, operator_clients, samples_path, start_trail, trail_files, trail_records

PAYMENTS = "111111111111"
KEY_PATTERN = re.compile(
    r"^AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$"
)


def _credentials(username: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("sandbox_credentials", username, stdout=out)
    return dict(line.split("=", 1) for line in out.getvalue().splitlines())


def _by_name(records: list[dict], name: str) -> list[dict]:
    return [r for r in records if r["eventName"] == name]


def test_it_records_daisys_own_calls_in_her_team_account(sandbox, people):
    bootstrap([AccountSpec(PAYMENTS, settings.AWS_PORTAL_ROLE_NAME)], [person_of(people.daisy)])
    creds = _credentials("daisy")
    ec2 = aws.client("ec2", access_key_id=creds["AWS_ACCESS_KEY_ID"],
                     secret_access_key=creds["AWS_SECRET_ACCESS_KEY"])
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22,
                                         CidrIp="203.0.113.0/24")
    try:
        ec2.delete_security_group(GroupId="sg-0000000000000dead")
    except aws.ClientError:
        pass

    sandbox.flush()
    files = trail_files(trail_bucket(PAYMENTS))
    assert files and all(KEY_PATTERN.match(key) for key in files), list(files)
    assert {KEY_PATTERN.match(key).group("acct") for key in files} == {PAYMENTS}
    records = trail_records(trail_bucket(PAYMENTS))

    sdk, older = _by_name(records, "AuthorizeSecurityGroupIngress")
    assert sdk["userIdentity"] == {
        "type": "IAMUser", "principalId": sdk["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::{PAYMENTS}:user/daisy", "accountId": PAYMENTS,
        "accessKeyId": creds["AWS_ACCESS_KEY_ID"], "userName": "daisy",
    }
    assert sdk["eventSource"] == "ec2.amazonaws.com" and sdk["awsRegion"] == "us-east-1"
    assert sdk["recipientAccountId"] == PAYMENTS and sdk["readOnly"] is False
    assert sdk["requestParameters"] == {"groupId": group, "ipPermissions": {"items": [{
        "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "groups": {},
        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}}
    assert older["requestParameters"] == {"groupId": group, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                          "cidrIp": "203.0.113.0/24", "ipPermissions": {}}
    assert sdk["responseElements"]["_return"] is True
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", sdk["eventTime"])

    failed = _by_name(records, "DeleteSecurityGroup")[0]
    assert failed["errorCode"] == "Client.InvalidGroup.NotFound" and failed["errorMessage"]
    assert failed["responseElements"] is None

    created = _by_name(records, "CreateSecurityGroup")[0]
    assert created["responseElements"]["groupId"] == group


def test_it_writes_the_field_set_of_a_real_record(sandbox, people):
    sample = json.load(open(samples_path(
        "cloudtrail", "stratus-red-team", "aws.exfiltration.ec2-security-group-open-port-22-ingress.json")))[0]
    bucket = start_trail(PAYMENTS)
    ec2 = operator_clients(PAYMENTS)("ec2")  # the account's administrator, as an assumed role
    group = ec2.create_security_group(GroupName="ssh", Description="ssh")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    ours = _by_name(trail_records(bucket, sandbox), "AuthorizeSecurityGroupIngress")[0]
    # tlsDetails: the sandbox speaks plain HTTP, so there is no TLS to describe.
    assert set(ours) == set(sample) - {"tlsDetails"}
    assert set(ours["userIdentity"]) >= {"type", "principalId", "arn", "accountId", "accessKeyId"}
    assert set(ours["requestParameters"]) == set(sample["requestParameters"])
    assert set(ours["responseElements"]) >= {"_return", "requestId", "securityGroupRuleSet"}


def test_it_records_the_portals_calls_as_its_assumed_role(sandbox):
    kit(PAYMENTS)  # the GuardrailPortal role
    bucket = start_trail(PAYMENTS)
    management_bucket = start_trail(settings.AWS_MANAGEMENT_ACCOUNT_ID)
    aws.reset_credentials_cache()  # a fresh AssumeRole now that both trails log
    aws.client("iam", account_id=PAYMENTS).get_role(RoleName="GuardrailPortal")
    with pytest.raises(aws.ClientError, match="AccessDenied"):  # the role only reads
        aws.client("iam", account_id=PAYMENTS).create_user(UserName="robot")

    records = trail_records(bucket, sandbox)
    create = _by_name(records, "GetRole")[0]
    identity = create["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{PAYMENTS}:assumed-role/GuardrailPortal/guardrail-portal"
    assert identity["accountId"] == PAYMENTS and identity["accessKeyId"].startswith("ASIA")
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer == {"type": "Role", "principalId": issuer["principalId"], "arn": aws.role_arn(PAYMENTS),
                      "accountId": PAYMENTS, "userName": "GuardrailPortal"}
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert create["eventSource"] == "iam.amazonaws.com" and create["awsRegion"] == "us-east-1"
    assert create["requestParameters"] == {"roleName": "GuardrailPortal"} and create["readOnly"] is True
    refused = _by_name(records, "CreateUser")[0]
    assert refused["errorCode"] == "AccessDenied" and refused["userIdentity"]["arn"] == identity["arn"]

    # AssumeRole is recorded where the portal's own user called it, and in the role's account.
    assumed = _by_name(trail_records(management_bucket), "AssumeRole")[-1]
    assert assumed["userIdentity"]["userName"] == "guardrail-portal"
    assert assumed["userIdentity"]["type"] == "IAMUser"
    assert assumed["requestParameters"]["roleArn"] == aws.role_arn(PAYMENTS)
    assert "secretAccessKey" not in assumed["responseElements"]["credentials"]
    assert _by_name(records, "AssumeRole")[-1]["recipientAccountId"] == PAYMENTS


def test_it_delivers_files_by_itself_within_seconds(sandbox):
    bucket = start_trail(PAYMENTS)
    operator_clients(PAYMENTS)("ec2", "eu-west-1").describe_vpcs()
    deadline = time.monotonic() + 5
    found: list[dict] = []
    while time.monotonic() < deadline and not found:
        found = [r for records in trail_files(bucket).values() for r in records if r["eventName"] == "DescribeVpcs"]
        time.sleep(0.05)
    assert found, "the flusher thread delivered nothing within 5 s"
    assert found[0]["awsRegion"] == "eu-west-1" and found[0]["readOnly"] is True
    assert found[0]["responseElements"] is None
    keys = [key for key in trail_files(bucket) if "/eu-west-1/" in key]
    assert keys and KEY_PATTERN.match(keys[0]).group("region") == "eu-west-1"


def test_it_names_services_by_their_endpoint_prefix(sandbox):
    bucket = start_trail(PAYMENTS)
    admin = operator_clients(PAYMENTS)
    admin("sts").get_caller_identity()
    admin("config").describe_configuration_recorders()
    admin("s3").list_buckets()
    sources = {r["eventName"]: r["eventSource"] for r in trail_records(bucket, sandbox)}
    assert sources["GetCallerIdentity"] == "sts.amazonaws.com"
    assert sources["DescribeConfigurationRecorders"] == "config.amazonaws.com"
    assert sources["ListBuckets"] == "s3.amazonaws.com"
    assert sources["StartLogging"] == "cloudtrail.amazonaws.com"
    create_bucket = _by_name(trail_records(bucket), "CreateBucket")
    assert not create_bucket  # made before the trail existed: nothing was logging then


def test_it_uses_the_trails_key_prefix(sandbox):
    bucket = start_trail(PAYMENTS, prefix="org/logs")
    operator_clients(PAYMENTS)("ec2").describe_vpcs()
    sandbox.flush()
    keys = list(trail_files(bucket))
    assert keys and all(key.startswith(f"org/logs/AWSLogs/{PAYMENTS}/CloudTrail/") for key in keys)
