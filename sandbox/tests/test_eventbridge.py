"""CloudTrail's EventBridge events: each call a trail logs is, within a second, an "AWS API Call via CloudTrail"
event on the caller's account's default bus, and rules deliver it as AWS does (state, queue and bus policies,
cross-account forwarding, one hop)."""

import json
import time

import pytest
from django.conf import settings

from sandbox.eventroutes import Outcome, is_read_only_management
from sandbox.operator import operator_client
from sandbox.organization import ensure_member_account
from sandbox.testing import enforced_sandbox, trail_records  # noqa: F401  (the fixture)

MANAGEMENT = settings.AWS_MANAGEMENT_ACCOUNT_ID
MEMBER = "555566667777"
REGION = "us-east-1"
EC2_CALLS = {"source": ["aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"]}


def _member_with_trail(account: str = MEMBER) -> str:
    ensure_member_account(account, "events", f"events+{account}@example.com", management_account_id=MANAGEMENT)
    bucket = f"events-trail-{account}"
    operator_client("s3", account).create_bucket(Bucket=bucket)
    cloudtrail = operator_client("cloudtrail", account)
    cloudtrail.create_trail(Name="events-trail", S3BucketName=bucket, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="events-trail")
    return bucket


def _queue(account: str, name: str, *, allow_events: bool = True) -> tuple[object, str, str]:
    """A queue (url, arn); with `allow_events`, its policy lets EventBridge send to it, as AWS needs."""
    sqs = operator_client("sqs", account)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow_events:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": arn, "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]})})
    return sqs, url, arn


def _rule(account: str, name: str, pattern: dict, target_arn: str, *, state: str = "ENABLED",
          role_arn: str | None = None) -> None:
    events = operator_client("events", account)
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
    target = {"Id": "t", "Arn": target_arn, **({"RoleArn": role_arn} if role_arn else {})}
    events.put_targets(Rule=name, Targets=[target])


def _receive(sqs, url: str, within: float = 1.0) -> list[dict]:
    """The queue's messages, polling until one arrives or `within` seconds pass."""
    deadline = time.monotonic() + within
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if batch or time.monotonic() > deadline:
            return [json.loads(m["Body"]) for m in batch]
        time.sleep(0.02)


def _emitted(server, event_name: str, within: float = 2.0, **parameters) -> dict:
    """The event the sandbox put on a bus for a call (routed to every target by then)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for event in list(server.events.emitted):
            detail = event["detail"]
            if detail["eventName"] == event_name and parameters.items() <= (detail["requestParameters"] or {}).items():
                return event
        time.sleep(0.02)
    raise AssertionError(f"no EventBridge event for {event_name}")


def _outcomes(server, target_arn: str, within: float = 2.0) -> list[Outcome]:
    """What became of the events at `target_arn` (waiting for the first one to be known)."""
    deadline = time.monotonic() + within
    while True:
        found = [o for o in list(server.events.outcomes) if o.target_arn == target_arn]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_a_write_call_reaches_a_rules_queue_within_a_second_with_the_log_files_record(enforced_sandbox):
    bucket = _member_with_trail()
    sqs, url, arn = _queue(MEMBER, "calls")
    _rule(MEMBER, "ec2-calls", EC2_CALLS, arn)

    group = operator_client("ec2", MEMBER).create_security_group(GroupName="web", Description="x")["GroupId"]
    called = time.monotonic()
    messages = _receive(sqs, url)
    assert time.monotonic() - called < 1.0 and len(messages) == 1
    event = messages[0]
    assert {k: event[k] for k in ("version", "detail-type", "source", "account", "region", "resources")} == {
        "version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "account": MEMBER,
        "region": REGION, "resources": []}
    detail = event["detail"]
    assert detail["eventName"] == "CreateSecurityGroup" and detail["responseElements"]["groupId"] == group
    assert event["time"] == detail["eventTime"] and event["id"] != detail["eventID"]
    logged = [r for r in trail_records(bucket, enforced_sandbox) if r["eventID"] == detail["eventID"]]
    assert logged == [detail]  # the log file, later, carries the very same record


def test_read_only_calls_reach_only_rules_that_opt_in(enforced_sandbox):
    _member_with_trail()
    sqs, url, arn = _queue(MEMBER, "reads")
    sqs_all, url_all, arn_all = _queue(MEMBER, "all-reads")
    reads = {**EC2_CALLS, "detail": {"eventName": ["DescribeSecurityGroups"]}}
    _rule(MEMBER, "reads", reads, arn)
    _rule(MEMBER, "all-reads", reads, arn_all, state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

    operator_client("ec2", MEMBER).describe_security_groups()
    assert [m["detail"]["eventName"] for m in _receive(sqs_all, url_all)] == ["DescribeSecurityGroups"]
    _emitted(enforced_sandbox, "DescribeSecurityGroups")
    assert _receive(sqs, url, within=0) == []


def test_the_read_only_rule_follows_the_names_as_aws_documents():
    def event(source, name):
        return {"detail-type": "AWS API Call via CloudTrail", "detail": {"eventSource": source, "eventName": name}}

    assert is_read_only_management(event("ec2.amazonaws.com", "DescribeInstances"))
    assert is_read_only_management(event("iam.amazonaws.com", "GetRole"))
    assert is_read_only_management(event("s3.amazonaws.com", "ListBuckets"))
    assert not is_read_only_management(event("sts.amazonaws.com", "GetSessionToken"))
    assert not is_read_only_management(event("sts.amazonaws.com", "GetFederationToken"))
    assert not is_read_only_management(event("sts.amazonaws.com", "AssumeRole"))
    assert not is_read_only_management(event("ec2.amazonaws.com", "RunInstances"))
    assert not is_read_only_management({"detail-type": "Custom", "detail": {"eventName": "GetThing"}})


def test_a_failed_call_is_sent_with_its_error(enforced_sandbox):
    _member_with_trail()
    sqs, url, arn = _queue(MEMBER, "failures")
    _rule(MEMBER, "failures", {**EC2_CALLS, "detail": {"errorCode": [{"exists": True}]}}, arn)

    with pytest.raises(Exception):
        operator_client("ec2", MEMBER, max_attempts=1).delete_security_group(GroupId="sg-0123456789abcdef0")
    [event] = _receive(sqs, url)
    assert event["detail"]["eventName"] == "DeleteSecurityGroup"
    assert event["detail"]["errorCode"].startswith("Client.") and event["detail"]["responseElements"] is None


def test_a_disabled_rule_and_a_queue_without_policy_get_nothing(enforced_sandbox):
    _member_with_trail()
    sqs, url, arn = _queue(MEMBER, "enabled")
    sqs_off, url_off, arn_off = _queue(MEMBER, "disabled")
    sqs_closed, url_closed, arn_closed = _queue(MEMBER, "no-policy", allow_events=False)
    _rule(MEMBER, "enabled", EC2_CALLS, arn)
    _rule(MEMBER, "disabled", EC2_CALLS, arn_off, state="DISABLED")
    _rule(MEMBER, "no-policy", EC2_CALLS, arn_closed)

    operator_client("ec2", MEMBER).create_security_group(GroupName="db", Description="x")
    assert len(_receive(sqs, url)) == 1  # the event was on the bus
    assert _receive(sqs_off, url_off, within=0) == []
    assert _receive(sqs_closed, url_closed, within=0) == []
    [refused] = _outcomes(enforced_sandbox, arn_closed)
    assert not refused.delivered and "does not allow events.amazonaws.com" in refused.reason


def test_no_trail_no_event(enforced_sandbox):
    ensure_member_account(MEMBER, "events", "events@example.com", management_account_id=MANAGEMENT)
    sqs, url, arn = _queue(MEMBER, "untrailed")
    _rule(MEMBER, "untrailed", EC2_CALLS, arn)
    operator_client("ec2", MEMBER).create_security_group(GroupName="quiet", Description="x")
    enforced_sandbox.events.drain()
    assert _receive(sqs, url, within=0.3) == [] and not list(enforced_sandbox.events.emitted)


def _forward_to_management(role_arn: str | None = None) -> tuple[object, str]:
    """member's rule → the management account's default bus → its rule → its queue; the queue."""
    bus = f"arn:aws:events:{REGION}:{MANAGEMENT}:event-bus/default"
    _rule(MEMBER, "to-management", EC2_CALLS, bus, role_arn=role_arn)
    sqs, url, arn = _queue(MANAGEMENT, "guardrail-events-test")
    _rule(MANAGEMENT, "from-members", {"detail-type": ["AWS API Call via CloudTrail"], "account": [MEMBER]}, arn)
    return sqs, url


def test_a_member_forwards_to_the_management_bus_its_policy_allows(enforced_sandbox):
    _member_with_trail()
    sqs, url = _forward_to_management()
    events = operator_client("events", MANAGEMENT)
    events.put_permission(Action="events:PutEvents", Principal=MEMBER, StatementId="member")

    group = operator_client("ec2", MEMBER).create_security_group(GroupName="fwd", Description="x")["GroupId"]
    [event] = _receive(sqs, url)
    assert event["account"] == MEMBER and event["detail"]["recipientAccountId"] == MEMBER  # the source account
    assert event["detail"]["responseElements"]["groupId"] == group

    events.remove_permission(StatementId="member")
    operator_client("ec2", MEMBER).create_security_group(GroupName="refused", Description="x")
    _emitted(enforced_sandbox, "CreateSecurityGroup", groupName="refused")
    assert _receive(sqs, url, within=0) == []
    refused = [o for o in _outcomes(enforced_sandbox, f"arn:aws:events:{REGION}:{MANAGEMENT}:event-bus/default")
               if not o.delivered]
    assert refused and "does not allow events:PutEvents" in refused[0].reason


def test_an_organisation_grant_needs_the_targets_execution_role(enforced_sandbox):
    _member_with_trail()
    org = operator_client("organizations", MANAGEMENT).describe_organization()["Organization"]["Id"]
    operator_client("events", MANAGEMENT).put_permission(
        Action="events:PutEvents", Principal="*", StatementId="organisation",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": org})
    sqs, url = _forward_to_management()
    operator_client("ec2", MEMBER).create_security_group(GroupName="no-role", Description="x")
    _emitted(enforced_sandbox, "CreateSecurityGroup", groupName="no-role")
    assert _receive(sqs, url, within=0) == []  # no RoleArn: the organisation's grant does not apply

    iam = operator_client("iam", MEMBER)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": MEMBER},
                                                     "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="forward-events", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="forward-events", PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents",
                                                "Resource": f"arn:aws:events:{REGION}:{MANAGEMENT}:event-bus/*"}]}))
    _forward_to_management(role_arn=f"arn:aws:iam::{MEMBER}:role/forward-events")
    operator_client("ec2", MEMBER).create_security_group(GroupName="untrusting-role", Description="x")
    _emitted(enforced_sandbox, "CreateSecurityGroup", groupName="untrusting-role")
    assert _receive(sqs, url, within=0) == []  # EventBridge may not assume a role that does not trust it
    assert "does not let events.amazonaws.com assume it" in enforced_sandbox.events.outcomes[-1].reason

    trust["Statement"][0]["Principal"] = {"Service": "events.amazonaws.com"}
    iam.update_assume_role_policy(RoleName="forward-events", PolicyDocument=json.dumps(trust))
    operator_client("ec2", MEMBER).create_security_group(GroupName="with-role", Description="x")
    [event] = _receive(sqs, url)
    assert event["detail"]["requestParameters"]["groupName"] == "with-role"


def test_an_event_from_another_bus_goes_no_further(enforced_sandbox):
    _member_with_trail()
    sqs, url = _forward_to_management()
    management = operator_client("events", MANAGEMENT)
    management.put_permission(Action="events:PutEvents", Principal=MEMBER, StatementId="member")
    management.create_event_bus(Name="third")
    third = f"arn:aws:events:{REGION}:{MANAGEMENT}:event-bus/third"
    _rule(MANAGEMENT, "onwards", {"account": [MEMBER]}, third)

    operator_client("ec2", MEMBER).create_security_group(GroupName="hop", Description="x")
    assert len(_receive(sqs, url)) == 1
    [onwards] = _outcomes(enforced_sandbox, third)
    assert not onwards.delivered and "not routed to a third" in onwards.reason


def test_an_sns_target_publishes_only_what_the_topics_policy_allows(enforced_sandbox):
    _member_with_trail()
    sns = operator_client("sns", MEMBER)
    topic = sns.create_topic(Name="calls")["TopicArn"]
    sqs, url, arn = _queue(MEMBER, "subscriber")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    _rule(MEMBER, "to-topic", EC2_CALLS, topic)

    operator_client("ec2", MEMBER).create_security_group(GroupName="default-topic-policy", Description="x")
    _emitted(enforced_sandbox, "CreateSecurityGroup", groupName="default-topic-policy")
    assert _receive(sqs, url, within=0) == []  # the topic's default policy lets only its own account publish

    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sns:Publish", "Resource": topic}]}))
    operator_client("ec2", MEMBER).create_security_group(GroupName="allowed", Description="x")
    [event] = _receive(sqs, url)
    assert event["detail"]["requestParameters"]["groupName"] == "allowed"
