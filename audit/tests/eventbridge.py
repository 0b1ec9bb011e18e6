"""EventBridge's copy of a CloudTrail event on the real-time queue, for tests: built from the record the sandbox
wrote for a real call, wrapped as EventBridge wraps it, and sent to `guardrail-events` as the management account's
rule would send it. When the sandbox emits these events itself (on every call, through the kit's rules), a test
replaces `record_for` + `put_on_queue` with the sandbox's own delivery and keeps the rest."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings

from sandbox.operator import operator_client
from sandbox.testing import trail_records

# The detail of "AWS API Call via CloudTrail" as the EventBridge schema registry describes it (the CDK's generated
# event patterns list these fields): the record less what only the log file carries (recipientAccountId,
# managementEvent, eventCategory, tlsDetails, resources, sharedEventID, ...).
DETAIL_FIELDS = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                 "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements",
                 "requestID", "eventID", "readOnly", "eventType", "apiVersion", "additionalEventData")


def eventbridge_event(record: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge puts on the account's default bus for this CloudTrail record."""
    service = str(record["eventSource"]).split(".", 1)[0]
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail",
            "source": f"aws.{service}", "account": record.get("recipientAccountId") or record["userIdentity"]["accountId"],
            "time": str(record["eventTime"]), "region": record["awsRegion"], "resources": [],
            "detail": {key: record[key] for key in DETAIL_FIELDS if key in record}}


def record_for(server: Any, bucket: str, event_name: str, **request: Any) -> dict[str, Any]:
    """The newest record of `event_name` in the trail's files (the sandbox's buffer written now), whose
    requestParameters have these values."""
    found = [r for r in trail_records(bucket, server) if r["eventName"] == event_name
             and all((r.get("requestParameters") or {}).get(k) == v for k, v in request.items())]
    assert found, f"no {event_name} record in {bucket}"
    return found[-1]


def put_on_queue(*bodies: Any) -> None:
    """Each body on the management account's guardrail-events, as the rule's SQS target sends it (a string is sent
    as it is: a malformed message)."""
    sqs = operator_client("sqs", settings.AWS_MANAGEMENT_ACCOUNT_ID)
    url = sqs.get_queue_url(QueueName=settings.EVENTS_QUEUE_NAME)["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))


def waiting() -> int:
    """Messages on guardrail-events, visible or in flight."""
    sqs = operator_client("sqs", settings.AWS_MANAGEMENT_ACCOUNT_ID)
    url = sqs.get_queue_url(QueueName=settings.EVENTS_QUEUE_NAME)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
