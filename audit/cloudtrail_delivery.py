"""CloudTrail's log delivery, through the AWS boundary: each account's queue of new-file notifications and the
bucket the files are read from."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote_plus

from django.conf import settings

from portal import aws

QUEUE_NAME = "guardrail-cloudtrail"


@dataclass(frozen=True)
class NewFile:
    bucket: str
    key: str
    receipt: str


_queue_urls: dict[tuple[str, str, str], str] = {}


def _queue(sqs, account_id: str, region: str) -> str:
    """The queue's URL, asked once per process: every GetQueueUrl would itself be a CloudTrail event."""
    key = (settings.AWS_ENDPOINT_URL, account_id, region)
    if key not in _queue_urls:
        _queue_urls[key] = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    return _queue_urls[key]


def new_files(*, account_id: str, region: str | None = None, max_messages: int = 10) -> Iterator[NewFile]:
    """S3 "object created" notifications waiting on the account's queue (test events are skipped)."""
    region = region or settings.AWS_DEFAULT_REGION
    sqs = aws.client("sqs", account_id=account_id, region=region)
    queue = _queue(sqs, account_id, region)
    for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=max_messages).get("Messages", []):
        body = json.loads(message["Body"])
        records = body.get("Records", []) if isinstance(body, dict) else []
        if not records:  # s3:TestEvent and anything else that names no object
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            continue
        for record in records:
            s3 = record.get("s3", {})
            yield NewFile(bucket=s3.get("bucket", {}).get("name", ""),
                          key=unquote_plus(s3.get("object", {}).get("key", "")), receipt=message["ReceiptHandle"])


def forget_message(*, account_id: str, receipt: str, region: str | None = None) -> None:
    region = region or settings.AWS_DEFAULT_REGION
    sqs = aws.client("sqs", account_id=account_id, region=region)
    sqs.delete_message(QueueUrl=_queue(sqs, account_id, region), ReceiptHandle=receipt)


def open_object(*, account_id: str, bucket: str, key: str) -> IO[bytes]:
    """The object's body as a stream: read in chunks, never loaded whole."""
    return aws.client("s3", account_id=account_id).get_object(Bucket=bucket, Key=key)["Body"]
