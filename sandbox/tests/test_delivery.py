"""Delivered files announce themselves on the account's queue; a logging failure never breaks a call."""

import json
from urllib.parse import unquote_plus

from django.conf import settings

from portal import aws
from sandbox import middleware, records
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

    real_build = records.build_record  # the file writer and the EventBridge emitter share the one record

    def flaky(captured):
        if captured.call.operation == "DescribeVpcs":
            raise RuntimeError("record builder exploded")
        return real_build(captured)

    monkeypatch.setattr(records, "build_record", flaky)
    ec2.describe_vpcs()
    ec2.create_security_group(GroupName="logged", Description="x")
    names = [r["eventName"] for r in trail_records(trail_bucket(ACCOUNT), sandbox)]
    assert "DescribeVpcs" not in names
    groups = [r["requestParameters"]["groupName"] for r in trail_records(trail_bucket(ACCOUNT))
              if r["eventName"] == "CreateSecurityGroup"]
    assert groups == ["logged"]


def test_a_trail_with_an_sns_topic_publishes_cloudtrails_own_notification_of_each_file(sandbox):
    bootstrap([AccountSpec(ACCOUNT, settings.AWS_PORTAL_ROLE_NAME)])
    from sandbox.operator import operator_client

    sns, sqs = operator_client("sns", ACCOUNT), operator_client("sqs", ACCOUNT)
    topic = sns.create_topic(Name="trail-notices")["TopicArn"]
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:notices"
    url = sqs.create_queue(QueueName="notices")["QueueUrl"]
    # as AWS needs: the topic lets the trail publish (CloudTrail checks), the queue lets the topic send (SNS checks)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
            "Resource": topic, "Condition": {"StringEquals": {
                "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/guardrail-trail"}}}]}))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    operator_client("cloudtrail", ACCOUNT).update_trail(Name="guardrail-trail", SnsTopicName="trail-notices")
    operator_client("ec2", ACCOUNT).create_security_group(GroupName="noticed", Description="x")
    sandbox.flush()
    notices = _messages(sqs, url)
    assert notices and all(set(n) == {"s3Bucket", "s3ObjectKey"} for n in notices)
    announced = {key for n in notices for key in n["s3ObjectKey"]}
    assert {n["s3Bucket"] for n in notices} == {trail_bucket(ACCOUNT)}
    assert announced <= set(trail_files(trail_bucket(ACCOUNT))) and announced


def test_an_organisation_trail_writes_each_members_records_under_the_organisation_layout(sandbox):
    from sandbox.operator import operator_client

    management = settings.AWS_MANAGEMENT_ACCOUNT_ID
    bootstrap([AccountSpec(ACCOUNT, settings.AWS_PORTAL_ROLE_NAME)])
    operator_client("s3", management).create_bucket(Bucket="org-trail-files")
    cloudtrail = operator_client("cloudtrail", management)
    cloudtrail.create_trail(Name="org-trail", S3BucketName="org-trail-files", IsOrganizationTrail=True,
                            IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="org-trail")
    org_id = operator_client("organizations", management).describe_organization()["Organization"]["Id"]
    operator_client("ec2", ACCOUNT, region="eu-west-1").create_security_group(GroupName="org", Description="x")
    sandbox.flush()
    files = trail_files("org-trail-files")
    member = [key for key in files if key.startswith(f"AWSLogs/{org_id}/{ACCOUNT}/CloudTrail/eu-west-1/")]
    assert member, sorted(files)
    assert any(r["eventName"] == "CreateSecurityGroup" and r["recipientAccountId"] == ACCOUNT
               for key in member for r in files[key])
    # the member's own trail still writes its own layout into its own bucket
    assert any(key.startswith(f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/") for key in trail_files(trail_bucket(ACCOUNT)))
