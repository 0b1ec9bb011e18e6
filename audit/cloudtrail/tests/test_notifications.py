"""Every shape AWS announces a new log file in, as AWS's documentation shows it (audit.cloudtrail.notifications)."""

import json

import pytest

from audit.cloudtrail.notifications import NewObject, UnreadableMessage, read_message

KEY = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/12/07/111111111111_CloudTrail_us-east-1_20261207T1800Z_a1b2.json.gz"
ORG_KEY = "AWSLogs/o-aa111bb222/222222222222/CloudTrail/eu-west-1/2026/12/07/x_CloudTrail_eu-west-1_20261207T1800Z_c.json.gz"
S3_EVENT = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventName": "ObjectCreated:Put",
                         "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                                "bucket": {"name": "trail-bucket", "arn": "arn:aws:s3:::trail-bucket"},
                                "object": {"key": KEY.replace("/", "%2F"), "size": 1}}}]}
CLOUDTRAIL = {"s3Bucket": "org-bucket", "s3ObjectKey": [KEY, ORG_KEY]}
EVENTBRIDGE = {"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
               "source": "aws.s3", "account": "111111111111", "time": "2026-12-07T18:00:00Z", "region": "us-east-1",
               "resources": ["arn:aws:s3:::trail-bucket"],
               "detail": {"version": "0", "bucket": {"name": "trail-bucket"}, "object": {"key": KEY, "size": 1},
                          "request-id": "N4N7GDK58NMKJ12R", "requester": "111111111111", "reason": "PutObject"}}


def sns(message: dict, topic: str = "arn:aws:sns:us-east-1:111111111111:trail-topic") -> dict:
    return {"Type": "Notification", "MessageId": "63a3f6b6-d533-4a47-aef9-fcf5cf758c76", "TopicArn": topic,
            "Subject": "Amazon S3 Notification", "Message": json.dumps(message), "Timestamp": "2026-12-07T18:00:00.000Z",
            "SignatureVersion": "1", "Signature": "EXAMPLE", "SigningCertURL": "https://sns.example/cert.pem",
            "UnsubscribeURL": "https://sns.example/?Action=Unsubscribe"}


@pytest.mark.parametrize("body, objects, shape", [
    (S3_EVENT, [NewObject("trail-bucket", KEY)], "S3 event notification"),
    (sns(S3_EVENT), [NewObject("trail-bucket", KEY)], "through SNS topic arn:aws:sns:us-east-1:111111111111:trail-topic: "
                                                      "S3 event notification"),
    (CLOUDTRAIL, [NewObject("org-bucket", KEY), NewObject("org-bucket", ORG_KEY)], "CloudTrail notification"),
    (sns(CLOUDTRAIL), [NewObject("org-bucket", KEY), NewObject("org-bucket", ORG_KEY)],
     "through SNS topic arn:aws:sns:us-east-1:111111111111:trail-topic: CloudTrail notification"),
    (EVENTBRIDGE, [NewObject("trail-bucket", KEY)], "EventBridge event"),
])
def test_it_reads_every_shape_a_new_file_is_announced_in(body, objects, shape):
    notice = read_message(json.dumps(body))
    assert list(notice.objects) == objects
    assert notice.shape == shape
    assert notice.problem == ""


def test_a_test_event_names_no_file_straight_or_through_sns():
    test = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-12-07T18:00:00.000Z", "Bucket": "trail-bucket"}
    assert read_message(json.dumps(test)).test_bucket == "trail-bucket"
    assert read_message(json.dumps(sns(test))).test_bucket == "trail-bucket"


@pytest.mark.parametrize("body, reason", [
    ("not json at all", "not JSON"),
    ("[1, 2]", "a JSON list, not an object"),
    (json.dumps({"hello": "world"}), "not a notification of a new object"),
    (json.dumps({"Records": []}), "'Records' is not a non-empty list"),
    (json.dumps({"Records": [{**S3_EVENT["Records"][0], "eventName": "ObjectRemoved:Delete"}]}),
     "ObjectRemoved:Delete, not a new object"),
    (json.dumps({**EVENTBRIDGE, "detail-type": "Object Deleted"}), "'Object Deleted' event, not 'Object Created'"),
    (json.dumps({"Type": "Notification", "TopicArn": "arn:t", "Message": "plain words"}), "whose Message is not JSON"),
    (json.dumps({"Type": "SubscriptionConfirmation", "TopicArn": "arn:t", "SubscribeURL": "https://x"}),
     "confirm the queue's subscription"),
    (json.dumps({"s3Bucket": "b"}), "without s3Bucket and s3ObjectKey"),
])
def test_anything_else_is_unreadable_with_the_reason(body, reason):
    with pytest.raises(UnreadableMessage) as raised:
        read_message(body)
    assert reason in raised.value.reason


def test_a_partly_readable_message_gives_its_files_and_says_what_was_not():
    body = {"Records": [S3_EVENT["Records"][0], {**S3_EVENT["Records"][0], "eventName": "ObjectRemoved:Delete"}]}
    notice = read_message(json.dumps(body))
    assert list(notice.objects) == [NewObject("trail-bucket", KEY)]
    assert "record 1 is ObjectRemoved:Delete" in notice.problem
