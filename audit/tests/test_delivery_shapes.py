"""Every way AWS announces a new CloudTrail file, end to end through the sandbox: a call in an account → its file →
the notification in that shape → the portal ingests the file once → the event in the history. A message the portal
cannot read is kept with its body and reason (Log files page), and leaves the queue only once it is kept."""

import json

import pytest
from django.conf import settings

from audit import services
from audit.models import CloudTrailEvent, LogFileStatus, QueueMessage
from audit.tasks import cloudtrail_poll
from sandbox.bootstrap import QUEUE_NAME, bootstrap_from_portal, trail_bucket
from sandbox.operator import operator_client
from sandbox.testing import as_person, update_kit

PAYMENTS = "111111111111"
ENVELOPE, RAW = "enveloped", "raw"
BAD = '{"hello": "not a notification"}'


@pytest.fixture
def kits(people, enforced_sandbox):
    bootstrap_from_portal()
    return enforced_sandbox


def _queue_arn(account_id: str) -> str:
    return f"arn:aws:sqs:{settings.AWS_DEFAULT_REGION}:{account_id}:{QUEUE_NAME}"


def _topic(account_id: str, name: str, raw: bool, publisher: str, source_arn: str) -> str:
    """A topic the account's queue is subscribed to, raw or in SNS's envelope, as the account's administrator sets
    it up in AWS: the topic's policy lets `publisher` (S3 for the bucket, CloudTrail for the trail) publish, and the
    kit, updated with TrailNotificationSourceArn naming the topic, lets the topic send to the queue."""
    sns = operator_client("sns", account_id)
    topic = sns.create_topic(Name=name)["TopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({"Sid": "PublisherPublishes", "Effect": "Allow", "Principal": {"Service": publisher},
                                "Action": "SNS:Publish", "Resource": topic,
                                "Condition": {"ArnLike": {"aws:SourceArn": source_arn}}})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    update_kit(account_id, TrailNotificationSourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=_queue_arn(account_id),
                  Attributes={"RawMessageDelivery": "true" if raw else "false"})
    return topic


def _empty(account_id: str, bucket: str) -> None:
    s3 = operator_client("s3", account_id)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})


def _group_made(kits, name: str) -> CloudTrailEvent:
    """Daisy makes a security group in the payments account; the sandbox delivers; the portal polls until idle.
    Returns the one stored event of it."""
    as_person("daisy")("ec2").create_security_group(GroupName=name, Description="x")
    kits.flush()
    while cloudtrail_poll():
        pass
    made = [e for e in CloudTrailEvent.objects.filter(event_name="CreateSecurityGroup", user_name="daisy")
            if (e.raw.get("requestParameters") or {}).get("groupName") == name]
    assert len(made) == 1  # exactly once
    assert made[0].log_file.status == LogFileStatus.DONE
    return made[0]


def _queued(account_id: str, body: str) -> bool:
    """Whether a message with `body` is still on the account's queue (its visibility timeout is 0 in these tests;
    the sandbox keeps delivering files meanwhile, so messages are looked for, not counted)."""
    sqs = operator_client("sqs", account_id)
    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    seen = set()
    for _ in range(10):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            seen.add(message["Body"])
    return body in seen


def test_s3_notifies_the_queue_directly(kits):
    event = _group_made(kits, "direct")
    assert event.log_file.bucket == trail_bucket(PAYMENTS) and event.log_file.account_id == PAYMENTS


@pytest.mark.parametrize("delivery", [ENVELOPE, RAW])
def test_s3_notifies_through_an_sns_topic(kits, delivery):
    topic = _topic(PAYMENTS, "trail-files", raw=delivery == RAW, publisher="s3.amazonaws.com",
                   source_arn=f"arn:aws:s3:::{trail_bucket(PAYMENTS)}")
    operator_client("s3", PAYMENTS).put_bucket_notification_configuration(
        Bucket=trail_bucket(PAYMENTS), NotificationConfiguration={"TopicConfigurations": [{
            "TopicArn": topic, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "AWSLogs/"}]}}}]})
    event = _group_made(kits, f"through-sns-{delivery}")
    assert event.log_file.bucket == trail_bucket(PAYMENTS)
    # S3's check of each configuration (the kit's, straight; this one, through the topic): noted, not quarantined
    tests = QueueMessage.objects.filter(kind=QueueMessage.Kind.TEST_EVENT, account_id=PAYMENTS)
    assert [trail_bucket(PAYMENTS) in test.reason for test in tests] == [True, True]
    assert tests.filter(reason__startswith=f"through SNS topic {topic}: ").count() == (delivery == ENVELOPE)
    assert not QueueMessage.objects.filter(kind=QueueMessage.Kind.QUARANTINED).exists()


@pytest.mark.parametrize("delivery", [ENVELOPE, RAW])
def test_cloudtrails_own_sns_notification(kits, delivery):
    topic = _topic(PAYMENTS, "trail-notices", raw=delivery == RAW, publisher="cloudtrail.amazonaws.com",
                   source_arn=f"arn:aws:cloudtrail:{settings.AWS_DEFAULT_REGION}:{PAYMENTS}:trail/guardrail-trail")
    operator_client("s3", PAYMENTS).put_bucket_notification_configuration(  # the bucket itself tells no one
        Bucket=trail_bucket(PAYMENTS), NotificationConfiguration={})
    operator_client("cloudtrail", PAYMENTS).update_trail(Name="guardrail-trail", SnsTopicName="trail-notices")
    assert topic.endswith(":trail-notices")
    event = _group_made(kits, f"cloudtrail-sns-{delivery}")
    assert event.log_file.bucket == trail_bucket(PAYMENTS)
    assert not QueueMessage.objects.filter(kind=QueueMessage.Kind.QUARANTINED).exists()


def test_s3_events_through_eventbridge(kits):
    s3 = operator_client("s3", PAYMENTS)
    s3.put_bucket_notification_configuration(Bucket=trail_bucket(PAYMENTS),
                                             NotificationConfiguration={"EventBridgeConfiguration": {}})
    events = operator_client("events", PAYMENTS)
    rule = events.put_rule(Name="trail-files", EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [trail_bucket(PAYMENTS)]}}}))["RuleArn"]
    update_kit(PAYMENTS, TrailNotificationSourceArn=rule)  # the queue takes what this rule sends
    events.put_targets(Rule="trail-files", Targets=[{"Id": "queue", "Arn": _queue_arn(PAYMENTS)}])
    event = _group_made(kits, "through-eventbridge")
    assert event.log_file.bucket == trail_bucket(PAYMENTS)
    assert not QueueMessage.objects.filter(kind=QueueMessage.Kind.QUARANTINED).exists()


def test_an_organisation_trail_writes_every_member_into_one_central_bucket_and_queue(kits):
    management = settings.AWS_MANAGEMENT_ACCOUNT_ID
    central = f"org-trail-{management}"
    s3 = operator_client("s3", management)
    s3.create_bucket(Bucket=central)
    # the management account's kit goes over to the organisation trail (TrailMode Organization naming its bucket):
    # its own trail's bucket must be empty to go, as in AWS; its queue then lets the central bucket notify it
    operator_client("cloudtrail", management).stop_logging(Name="guardrail-trail")
    kits.flush()
    while cloudtrail_poll():
        pass
    _empty(management, trail_bucket(management))
    update_kit(management, TrailMode="Organization", OrganizationTrailBucket=central)
    s3.put_bucket_notification_configuration(Bucket=central, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": _queue_arn(management), "Events": ["s3:ObjectCreated:*"]}]})
    cloudtrail = operator_client("cloudtrail", management)
    cloudtrail.create_trail(Name="org-trail", S3BucketName=central, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="org-trail")
    operator_client("cloudtrail", PAYMENTS).stop_logging(Name="guardrail-trail")  # only the organisation's trail

    event = _group_made(kits, "organisation")
    org_id = operator_client("organizations", management).describe_organization()["Organization"]["Id"]
    assert event.log_file.bucket == central
    assert event.log_file.key.startswith(f"AWSLogs/{org_id}/{PAYMENTS}/CloudTrail/us-east-1/")
    assert event.log_file.account_id == management  # read by the central bucket's own account
    assert event.account_id == PAYMENTS and event.team.slug == "payments"


def test_an_unreadable_message_is_kept_with_its_body_and_reason_then_leaves_the_queue(kits, client, people,
                                                                                       monkeypatch):
    while cloudtrail_poll():  # what the bootstrap left on the queue
        pass
    sqs = operator_client("sqs", PAYMENTS)
    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})  # a message not deleted is back at once
    sqs.send_message(QueueUrl=url, MessageBody=BAD)

    def broken(*args, **kwargs):
        raise RuntimeError("the database is away")

    monkeypatch.setattr(services, "_message_keep", broken)
    with pytest.raises(RuntimeError):
        cloudtrail_poll()
    assert _queued(PAYMENTS, BAD)  # not kept, so not deleted
    assert not QueueMessage.objects.filter(kind=QueueMessage.Kind.QUARANTINED).exists()
    monkeypatch.undo()

    while cloudtrail_poll():
        pass
    kept = QueueMessage.objects.get(kind=QueueMessage.Kind.QUARANTINED)
    assert kept.body == BAD and kept.account_id == PAYMENTS
    assert "not a notification of a new object" in kept.reason
    assert not _queued(PAYMENTS, BAD)

    client.force_login(people.auditor)
    page = client.get("/audit/files/").content.decode()
    assert "not a notification of a new object" in page and "&quot;hello&quot;: &quot;not a notification&quot;" in page
