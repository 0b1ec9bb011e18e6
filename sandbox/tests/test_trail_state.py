"""Only a logging trail writes: StopLogging is the last record until StartLogging, a deleted trail is silent."""

from sandbox.testing import operator_clients, start_trail, trail_records

ACCOUNT = "111111111111"


def _names(bucket, sandbox):
    return [r["eventName"] for r in trail_records(bucket, sandbox)]


def test_it_logs_stop_logging_and_then_nothing_until_start_logging(sandbox):
    bucket = start_trail(ACCOUNT, name="main-trail")
    admin = operator_clients(ACCOUNT)  # the account's administrator
    cloudtrail, ec2 = admin("cloudtrail"), admin("ec2")
    ec2.create_security_group(GroupName="before-stop", Description="x")
    cloudtrail.stop_logging(Name="main-trail")
    ec2.create_security_group(GroupName="while-stopped", Description="x")
    ec2.describe_security_groups()
    assert _names(bucket, sandbox)[-2:] == ["CreateSecurityGroup", "StopLogging"]

    cloudtrail.start_logging(Name="main-trail")
    ec2.create_security_group(GroupName="after-start", Description="x")
    records = trail_records(bucket, sandbox)
    names = [r["eventName"] for r in records]
    assert names[-2:] == ["StartLogging", "CreateSecurityGroup"]
    groups = [r["requestParameters"]["groupName"] for r in records if r["eventName"] == "CreateSecurityGroup"]
    assert groups == ["before-stop", "after-start"]
    assert "DescribeSecurityGroups" not in names


def test_it_writes_nothing_for_a_deleted_trail(sandbox):
    bucket = start_trail(ACCOUNT, name="doomed-trail")
    admin = operator_clients(ACCOUNT)
    admin("cloudtrail").delete_trail(Name="doomed-trail")
    admin("ec2").create_security_group(GroupName="unseen", Description="x")
    names = _names(bucket, sandbox)
    assert names[-1] == "DeleteTrail"  # it was logging just before: its own deletion is the last record
    assert "CreateSecurityGroup" not in names


def test_it_writes_only_into_the_callers_account(sandbox):
    bucket = start_trail(ACCOUNT)
    operator_clients("222222222222")("ec2").create_security_group(GroupName="elsewhere", Description="x")
    assert "CreateSecurityGroup" not in _names(bucket, sandbox)


def test_it_respects_a_single_region_trail(sandbox):
    bucket = start_trail(ACCOUNT, multi_region=False)
    admin = operator_clients(ACCOUNT)
    admin("ec2", "eu-west-1").create_security_group(GroupName="eu", Description="x")
    admin("ec2", "us-east-1").create_security_group(GroupName="us", Description="x")
    records = [r for r in trail_records(bucket, sandbox) if r["eventName"] == "CreateSecurityGroup"]
    assert [r["requestParameters"]["groupName"] for r in records] == ["us"]
