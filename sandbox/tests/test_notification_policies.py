"""AWS's services notify only where the destination's policy lets them (sandbox.notify_policies): S3 validates a
notification configuration's queues and topics when it is put, SNS drops what a queue's policy refuses, CloudTrail
refuses an SnsTopicName whose topic's policy does not let it publish."""

import json
import logging
import time

import pytest
from botocore.exceptions import ClientError

from sandbox.operator import operator_client
from sandbox.testing import member

ACCOUNT = "444455556666"
REGION = "us-east-1"
BUCKET = f"notices-{ACCOUNT}"
REFUSED = "Unable to validate the following destination configurations"


@pytest.fixture
def account(sandbox):
    member(ACCOUNT)
    operator_client("s3", ACCOUNT).create_bucket(Bucket=BUCKET)
    return sandbox


def _queue(name: str, statement: dict | None = None) -> tuple[str, str]:
    sqs = operator_client("sqs", ACCOUNT)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if statement is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn,
                                                    **statement}]})})
    return url, arn


def _topic(name: str, statement: dict | None = None) -> str:
    sns = operator_client("sns", ACCOUNT)
    arn = sns.create_topic(Name=name)["TopicArn"]
    if statement is not None:  # added to the topic's default policy, as the console does
        policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        policy["Statement"].append({"Effect": "Allow", "Action": "sns:Publish", "Resource": arn, **statement})
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return arn


def _from(service: str, source_arn: str) -> dict:
    return {"Principal": {"Service": service}, "Condition": {"ArnLike": {"aws:SourceArn": source_arn}}}


def _messages(url: str, within: float = 0.5) -> list[str]:
    sqs = operator_client("sqs", ACCOUNT)
    deadline, bodies = time.monotonic() + within, []
    while time.monotonic() < deadline:
        bodies += [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
        if bodies:
            break
        time.sleep(0.02)
    return bodies


def _notify(kind: str, arn: str) -> None:
    key, field = ("QueueConfigurations", "QueueArn") if kind == "queue" else ("TopicConfigurations", "TopicArn")
    operator_client("s3", ACCOUNT).put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={key: [{field: arn, "Events": ["s3:ObjectCreated:*"]}]})


def _refused(error: ClientError, arn: str) -> None:
    assert error.response["Error"]["Code"] == "InvalidArgument"
    assert error.response["Error"]["Message"] == REFUSED
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["ArgumentName1"] == arn


# --- S3 PutBucketNotificationConfiguration ---

@pytest.mark.parametrize("statement", [None, _from("sns.amazonaws.com", "*"),
                                       _from("s3.amazonaws.com", "arn:aws:s3:::some-other-bucket")])
def test_a_queue_s3_may_not_send_to_is_refused(account, statement):
    url, arn = _queue("refuses", statement)
    with pytest.raises(ClientError) as refused:
        _notify("queue", arn)
    _refused(refused.value, arn)
    assert "queue do not allow S3" in refused.value.response["Error"]["ArgumentValue1"]
    assert not operator_client("s3", ACCOUNT).get_bucket_notification_configuration(Bucket=BUCKET).get(
        "QueueConfigurations")
    assert _messages(url) == []  # no test event either


def test_a_queue_that_lets_s3_send_for_the_bucket_gets_the_test_event_then_the_objects(account):
    url, arn = _queue("accepts", _from("s3.amazonaws.com", f"arn:aws:s3:::{BUCKET}"))
    _notify("queue", arn)
    assert json.loads(_messages(url)[0])["Event"] == "s3:TestEvent"
    operator_client("s3", ACCOUNT).put_object(Bucket=BUCKET, Key="a.txt", Body=b"x")
    assert json.loads(_messages(url)[0])["Records"][0]["s3"]["object"]["key"] == "a.txt"


def test_a_queue_whose_policy_no_longer_allows_s3_gets_nothing(account, caplog):
    url, arn = _queue("revoked", _from("s3.amazonaws.com", f"arn:aws:s3:::{BUCKET}"))
    _notify("queue", arn)
    _messages(url)
    operator_client("sqs", ACCOUNT).set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    with caplog.at_level(logging.INFO, logger="sandbox.notify_policies"):
        operator_client("s3", ACCOUNT).put_object(Bucket=BUCKET, Key="b.txt", Body=b"x")
    assert _messages(url) == []
    assert f"S3 did not notify {arn}" in caplog.text


@pytest.mark.parametrize("statement", [None, _from("cloudtrail.amazonaws.com", "*")])
def test_a_topic_s3_may_not_publish_to_is_refused(account, statement):
    arn = _topic("refuses", statement)  # the default policy lets only the account's own principals publish
    with pytest.raises(ClientError) as refused:
        _notify("topic", arn)
    _refused(refused.value, arn)
    assert "topic do not allow S3" in refused.value.response["Error"]["ArgumentValue1"]


def test_a_destination_that_does_not_exist_is_refused(account):
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:nowhere"
    with pytest.raises(ClientError) as refused:
        _notify("topic", missing)
    _refused(refused.value, missing)
    assert refused.value.response["Error"]["ArgumentValue1"] == "The destination topic does not exist"


def test_a_topic_that_lets_s3_publish_for_the_bucket_is_accepted(account):
    arn = _topic("accepts", _from("s3.amazonaws.com", f"arn:aws:s3:::{BUCKET}"))
    _notify("topic", arn)
    configured = operator_client("s3", ACCOUNT).get_bucket_notification_configuration(Bucket=BUCKET)
    assert [c["TopicArn"] for c in configured["TopicConfigurations"]] == [arn]


# --- SNS → SQS ---

@pytest.mark.parametrize("raw", [True, False])
def test_sns_drops_a_message_the_queues_policy_does_not_let_it_send(account, raw, caplog):
    topic = _topic("notices")
    url, arn = _queue("no-sns-grant")
    operator_client("sns", ACCOUNT).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                              Attributes={"RawMessageDelivery": str(raw).lower()})
    with caplog.at_level(logging.INFO, logger="sandbox.notify_policies"):
        operator_client("sns", ACCOUNT).publish(TopicArn=topic, Message="dropped")
    assert _messages(url) == []
    assert "SNS did not deliver" in caplog.text and arn in caplog.text


def test_sns_drops_a_message_for_a_grant_to_another_topic(account):
    topic = _topic("notices")
    url, arn = _queue("other-grant", _from("sns.amazonaws.com", f"arn:aws:sns:{REGION}:{ACCOUNT}:elsewhere"))
    operator_client("sns", ACCOUNT).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                              Attributes={"RawMessageDelivery": "true"})
    operator_client("sns", ACCOUNT).publish(TopicArn=topic, Message="dropped")
    assert _messages(url) == []


def test_sns_delivers_where_the_queues_policy_lets_the_topic_send(account):
    topic = _topic("notices")
    url, arn = _queue("sns-grant", _from("sns.amazonaws.com", topic))
    operator_client("sns", ACCOUNT).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                              Attributes={"RawMessageDelivery": "true"})
    operator_client("sns", ACCOUNT).publish(TopicArn=topic, Message="delivered")
    assert _messages(url) == ["delivered"]


def test_s3_through_sns_to_sqs_needs_both_policies(account):
    topic = _topic("files", _from("s3.amazonaws.com", f"arn:aws:s3:::{BUCKET}"))
    url, arn = _queue("files", _from("sns.amazonaws.com", topic))
    operator_client("sns", ACCOUNT).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                              Attributes={"RawMessageDelivery": "true"})
    _notify("topic", topic)
    assert json.loads(_messages(url)[0])["Event"] == "s3:TestEvent"
    operator_client("s3", ACCOUNT).put_object(Bucket=BUCKET, Key="c.txt", Body=b"x")
    assert json.loads(_messages(url)[0])["Records"][0]["s3"]["object"]["key"] == "c.txt"


# --- CloudTrail SnsTopicName ---

def _trail_bucket() -> None:
    operator_client("s3", ACCOUNT).put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{BUCKET}"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*"}]}))


def _trail_refused(error: ClientError) -> None:
    assert error.response["Error"]["Code"] == "InsufficientSnsTopicPolicyException"
    assert error.response["Error"]["Message"] == "SNS Topic does not exist or the topic policy is incorrect!"


@pytest.mark.parametrize("statement", [None, _from("s3.amazonaws.com", "*"),
                                       _from("cloudtrail.amazonaws.com",
                                             f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/another")])
def test_create_trail_refuses_a_topic_cloudtrail_may_not_publish_to(account, statement):
    _trail_bucket()
    _topic("trail-notices", statement)
    cloudtrail = operator_client("cloudtrail", ACCOUNT)
    with pytest.raises(ClientError) as refused:
        cloudtrail.create_trail(Name="notified", S3BucketName=BUCKET, SnsTopicName="trail-notices")
    _trail_refused(refused.value)
    assert cloudtrail.describe_trails()["trailList"] == []


def test_create_trail_accepts_a_topic_that_lets_this_trail_publish(account):
    _trail_bucket()
    topic = _topic("trail-notices", _from("cloudtrail.amazonaws.com",
                                          f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/notified"))
    cloudtrail = operator_client("cloudtrail", ACCOUNT)
    cloudtrail.create_trail(Name="notified", S3BucketName=BUCKET, SnsTopicName=topic)  # an ARN names it too
    assert cloudtrail.get_trail(Name="notified")["Trail"]["SnsTopicName"] == topic


def test_update_trail_refuses_a_topic_cloudtrail_may_not_publish_to(account):
    _trail_bucket()
    cloudtrail = operator_client("cloudtrail", ACCOUNT)
    cloudtrail.create_trail(Name="notified", S3BucketName=BUCKET)
    _topic("trail-notices")
    with pytest.raises(ClientError) as refused:
        cloudtrail.update_trail(Name="notified", SnsTopicName="trail-notices")
    _trail_refused(refused.value)
    assert "SnsTopicName" not in cloudtrail.get_trail(Name="notified")["Trail"]
    with pytest.raises(ClientError) as missing:
        cloudtrail.update_trail(Name="notified", SnsTopicName="no-such-topic")
    _trail_refused(missing.value)


def test_update_trail_accepts_a_topic_that_lets_cloudtrail_publish(account):
    _trail_bucket()
    cloudtrail = operator_client("cloudtrail", ACCOUNT)
    cloudtrail.create_trail(Name="notified", S3BucketName=BUCKET)
    _topic("trail-notices", {"Principal": {"Service": "cloudtrail.amazonaws.com"},
                             "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})
    cloudtrail.update_trail(Name="notified", SnsTopicName="trail-notices")
    assert cloudtrail.get_trail(Name="notified")["Trail"]["SnsTopicName"] == "trail-notices"



# --- the same check through CloudFormation (sandbox.cfn_types.storage) ---

NOTIFYING_BUCKET = """
Parameters:
  Topic: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: notified-by-stack-%s
      NotificationConfiguration:
        TopicConfigurations:
          - Event: s3:ObjectCreated:*
            Topic: !Ref Topic
""" % ACCOUNT


@pytest.mark.parametrize("allowed", [False, True])
def test_a_stacks_bucket_notifies_a_topic_only_when_the_topic_lets_s3_publish(account, allowed):
    statement = _from("s3.amazonaws.com", f"arn:aws:s3:::notified-by-stack-{ACCOUNT}") if allowed else None
    topic = _topic("stack-files", statement)
    cfn = operator_client("cloudformation", ACCOUNT)
    cfn.create_stack(StackName="notified", TemplateBody=NOTIFYING_BUCKET,
                     Parameters=[{"ParameterKey": "Topic", "ParameterValue": topic}])
    status = cfn.describe_stacks(StackName="notified")["Stacks"][0]["StackStatus"]
    if allowed:
        assert status == "CREATE_COMPLETE"
        return
    assert status == "ROLLBACK_COMPLETE"
    failed = [e["ResourceStatusReason"] for e in cfn.describe_stack_events(StackName="notified")["StackEvents"]
              if e["ResourceStatus"] == "CREATE_FAILED"]
    assert REFUSED in failed[0] and topic in failed[0]
