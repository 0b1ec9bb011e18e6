"""Delivered files announce themselves on the account's queue; a logging failure never breaks a call."""

import json
from urllib.parse import unquote_plus

from django.conf import settings

from portal import aws
from sandbox import delivery, middleware
from sandbox.bootstrap import QUEUE_NAME, AccountSpec, bootstrap, trail_bucket
from sandbox.testing import operator_clients, trail_files, trail_records

ACCOUNT = "222222222222"


def _messages(sqs, url: str) -> list[dict]:
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_it_notifies_the_queue_of_each_delivered_file(sandbox):
    bootstrap([AccountSpec(ACCOUNT, settings.AWS_PORTAL_ROLE_NAME)])
    admin = operator_clients(ACCOUNT)  # the account's administrator at work
    admin("ec2").create_security_group(GroupName="one", Description="x")
    sandbox.flush()
    admin("ec2", "eu-west-1").create_security_group(GroupName="two", Description="x")
    sandbox.flush()

    sqs = aws.client("sqs", account_id=ACCOUNT)
    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    events = [m for m in _messages(sqs, url) if m.get("Event") != "s3:TestEvent"]
    # S3 event notifications URL-encode the key, as AWS does.
    announced = [unquote_plus(record["s3"]["object"]["key"]) for event in events for record in event["Records"]]
    assert all(record["eventName"].startswith("ObjectCreated") for event in events for record in event["Records"])
    assert {record["s3"]["bucket"]["name"] for event in events for record in event["Records"]} == {
        trail_bucket(ACCOUNT)}
    assert sorted(announced) == sorted(trail_files(trail_bucket(ACCOUNT)))
    assert len(announced) >= 2


def test_it_passes_the_call_through_when_logging_fails(sandbox, monkeypatch):
    bootstrap([AccountSpec(ACCOUNT, settings.AWS_PORTAL_ROLE_NAME)])
    ec2 = operator_clients(ACCOUNT)("ec2")

    def broken(*args, **kwargs):
        raise RuntimeError("trail lookup exploded")

    monkeypatch.setattr(middleware, "logging_trails", broken)
    assert ec2.create_security_group(GroupName="survives", Description="x")["GroupId"].startswith("sg-")
    monkeypatch.undo()

    real_build = delivery.build_record

    def flaky(captured):
        if captured.call.operation == "DescribeVpcs":
            raise RuntimeError("record builder exploded")
        return real_build(captured)

    monkeypatch.setattr(delivery, "build_record", flaky)
    ec2.describe_vpcs()
    ec2.create_security_group(GroupName="logged", Description="x")
    names = [r["eventName"] for r in trail_records(trail_bucket(ACCOUNT), sandbox)]
    assert "DescribeVpcs" not in names
    groups = [r["requestParameters"]["groupName"] for r in trail_records(trail_bucket(ACCOUNT))
              if r["eventName"] == "CreateSecurityGroup"]
    assert groups == ["logged"]
