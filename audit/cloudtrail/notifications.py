"""What a message on the log-file queue says: which new CloudTrail files it names (no Django, no boto3).

Every way AWS announces a new log file to an SQS queue is read here:

- an S3 event notification sent straight to the queue: ``{"Records": [{"eventSource": "aws:s3", "eventName":
  "ObjectCreated:Put", "s3": {"bucket": {"name": ...}, "object": {"key": ...}}}]}``, the key URL-encoded
  (S3 User Guide, "Event message structure": "The s3 key ... object key name value is URL encoded");
- the same through an SNS topic, raw (RawMessageDelivery: the message as published, so the same body) or in
  SNS's envelope ``{"Type": "Notification", "MessageId", "TopicArn", "Message": "<the JSON as a string>", ...}``
  (SNS Developer Guide, "Fanout to Amazon SQS queues" and "Amazon SNS raw message delivery");
- CloudTrail's own notification, published to the trail's SNS topic (SnsTopicName) after each file:
  ``{"s3Bucket": "...", "s3ObjectKey": ["AWSLogs/..."]}``, raw or enveloped (CloudTrail User Guide,
  "Configuring Amazon SNS notifications for CloudTrail");
- an S3 event through EventBridge to the queue: ``{"detail-type": "Object Created", "source": "aws.s3",
  "detail": {"bucket": {"name": ...}, "object": {"key": ...}}}``, the key as it is (S3 User Guide, "EventBridge
  event message structure");
- an organisation trail's files in any of these: their keys carry the organisation id,
  ``AWSLogs/o-…/<account>/CloudTrail/<region>/…`` (audit.cloudtrail.files.parse_key reads both layouts).

S3's ``s3:TestEvent`` (sent when a notification is configured; straight or through SNS) names no file and is
reported as a test. Anything else is unreadable, with the reason: the portal keeps such a message, it never
drops it unseen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

__all__ = ["NewObject", "Notice", "UnreadableMessage", "read_message"]


class UnreadableMessage(Exception):
    """The message names no new log file the portal can read; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewObject:
    bucket: str
    key: str


@dataclass(frozen=True)
class Notice:
    """What one message announced: new objects, or an S3 test event (`test_bucket`); `shape` names the route, and
    `problem` what part of it could not be read (the rest still counts)."""

    objects: tuple[NewObject, ...] = ()
    shape: str = ""
    test_bucket: str | None = None
    problem: str = ""


def _s3_records(records: Any) -> tuple[list[NewObject], list[str]]:
    found, problems = [], []
    if not isinstance(records, list) or not records:
        return [], ["'Records' is not a non-empty list"]
    for number, record in enumerate(records):
        s3 = record.get("s3") if isinstance(record, dict) else None
        name = record.get("eventName", "") if isinstance(record, dict) else ""
        if not isinstance(s3, dict):
            problems.append(f"record {number} is not an S3 event (no 's3')")
            continue
        if not str(name).startswith("ObjectCreated"):
            problems.append(f"record {number} is {name or 'an unnamed event'}, not a new object")
            continue
        bucket = (s3.get("bucket") or {}).get("name") if isinstance(s3.get("bucket"), dict) else None
        key = (s3.get("object") or {}).get("key") if isinstance(s3.get("object"), dict) else None
        if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
            problems.append(f"record {number} names no bucket and key")
            continue
        found.append(NewObject(bucket, unquote_plus(key)))
    return found, problems


def _cloudtrail(body: dict) -> tuple[list[NewObject], list[str]]:
    bucket, keys = body.get("s3Bucket"), body.get("s3ObjectKey")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(bucket, str) or not bucket or not isinstance(keys, list) or not keys:
        return [], ["a CloudTrail notification without s3Bucket and s3ObjectKey"]
    good = [NewObject(bucket, key) for key in keys if isinstance(key, str) and key]
    return good, ([] if len(good) == len(keys) else [f"{len(keys) - len(good)} s3ObjectKey value(s) are not keys"])


def _eventbridge(body: dict) -> tuple[list[NewObject], list[str]]:
    kind = body.get("detail-type")
    if body.get("source") != "aws.s3":
        return [], [f"an EventBridge event from {body.get('source')!r}, not aws.s3"]
    if kind != "Object Created":
        return [], [f"an EventBridge {kind!r} event, not 'Object Created'"]
    detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
    bucket = detail.get("bucket", {}).get("name") if isinstance(detail.get("bucket"), dict) else None
    key = detail.get("object", {}).get("key") if isinstance(detail.get("object"), dict) else None
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return [], ["an EventBridge 'Object Created' event without detail.bucket.name and detail.object.key"]
    return [NewObject(bucket, key)], []


def _read(body: Any, via: str) -> Notice:
    if not isinstance(body, dict):
        raise UnreadableMessage(f"{via}a JSON {type(body).__name__}, not an object")
    if body.get("Type") == "Notification" and "TopicArn" in body:  # SNS's envelope: read what was published
        inner = body.get("Message")
        if not isinstance(inner, str):
            raise UnreadableMessage(f"an SNS notification from {body.get('TopicArn')} without a Message")
        try:
            published = json.loads(inner)
        except ValueError:
            raise UnreadableMessage(f"an SNS notification from {body.get('TopicArn')} whose Message is not JSON: "
                                    f"{inner[:100]!r}") from None
        return _read(published, f"through SNS topic {body.get('TopicArn')}: ")
    if body.get("Type") == "SubscriptionConfirmation":
        raise UnreadableMessage(f"SNS asks to confirm the queue's subscription to {body.get('TopicArn')}: no file "
                                "arrives until it is confirmed (subscribe the queue as its owner, or visit the "
                                "SubscribeURL in this message)")
    if body.get("Event") == "s3:TestEvent":
        return Notice(shape=f"{via}S3 test event", test_bucket=str(body.get("Bucket") or ""))
    if "Records" in body:
        found, problems = _s3_records(body["Records"])
        shape = "S3 event notification"
    elif "s3ObjectKey" in body or "s3Bucket" in body:
        found, problems = _cloudtrail(body)
        shape = "CloudTrail notification"
    elif "detail-type" in body:
        found, problems = _eventbridge(body)
        shape = "EventBridge event"
    else:
        raise UnreadableMessage(f"{via}not a notification of a new object: no Records (S3), s3ObjectKey "
                                f"(CloudTrail) or detail-type (EventBridge); its keys: {', '.join(sorted(body))[:200]}")
    if not found:
        raise UnreadableMessage(f"{via}{shape}: {'; '.join(problems)}")
    return Notice(objects=tuple(found), shape=f"{via}{shape}", problem="; ".join(problems))


def read_message(body: str) -> Notice:
    """The new objects a queue message announces, or its S3 test event; UnreadableMessage otherwise."""
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise UnreadableMessage(f"not JSON ({exc})") from None
    return _read(parsed, "")
