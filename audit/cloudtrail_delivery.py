"""CloudTrail's log delivery, through the AWS boundary: each account's queue of new-file notifications and the
bucket the files are read from. What a message says is audit.cloudtrail.notifications' to read."""

from dataclasses import dataclass
from typing import IO

from django.conf import settings

from portal import aws

QUEUE_NAME = "guardrail-cloudtrail"


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    receipt: str


_queue_urls: dict[tuple[str, str, str], str] = {}


def _queue(sqs, account_id: str, region: str) -> str:
    """The queue's URL, asked once per process: every GetQueueUrl would itself be a CloudTrail event."""
    key = (settings.AWS_ENDPOINT_URL, account_id, region)
    if key not in _queue_urls:
        _queue_urls[key] = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    return _queue_urls[key]


def messages(*, account_id: str, region: str | None = None, max_messages: int = 10) -> list[QueueMessage]:
    """Messages waiting on the account's queue, as they are (audit.cloudtrail.notifications reads them)."""
    region = region or settings.AWS_DEFAULT_REGION
    sqs = aws.client("sqs", account_id=account_id, region=region)
    answer = sqs.receive_message(QueueUrl=_queue(sqs, account_id, region), MaxNumberOfMessages=max_messages)
    return [QueueMessage(message_id=m.get("MessageId", ""), body=m.get("Body", ""), receipt=m["ReceiptHandle"])
            for m in answer.get("Messages", [])]


def forget_message(*, account_id: str, receipt: str, region: str | None = None) -> None:
    region = region or settings.AWS_DEFAULT_REGION
    sqs = aws.client("sqs", account_id=account_id, region=region)
    sqs.delete_message(QueueUrl=_queue(sqs, account_id, region), ReceiptHandle=receipt)


def open_object(*, account_id: str, bucket: str, key: str) -> IO[bytes]:
    """The object's body as a stream: read in chunks, never loaded whole."""
    return aws.client("s3", account_id=account_id).get_object(Bucket=bucket, Key=key)["Body"]
