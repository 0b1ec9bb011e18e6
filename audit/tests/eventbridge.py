"""The real-time queue in tests. The sandbox emits each call's "AWS API Call via CloudTrail" event on the caller's
account's default bus and the kit's rules carry it to the management account's `guardrail-events`, as in AWS:
`arrive(server)` makes what the emitter thread does within a second happen now; `quiet(server)` starts a test with
the queue empty (the bootstrap's own calls arrive there too). `eventbridge_event` + `put_on_queue` build and send a
copy by hand, for what the sandbox would never send (malformed messages, one event sent twice at once)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings

from sandbox.operator import operator_client
from sandbox.testing import trail_records

# The detail fields the EventBridge schema registry describes for "AWS API Call via CloudTrail" (the CDK's generated
# event patterns list these): a hand-made copy carries only these, so the consumer is tested on the leanest detail
# (the sandbox's own events carry the whole record, as recent events from AWS do).
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


def arrive(server: Any) -> None:
    """Every call's event emitted and carried through the rules now (the sandbox's thread does within a second)."""
    server.events.drain()


def quiet(server: Any) -> None:
    """guardrail-events emptied of what arrived so far (e.g. the bootstrap's own calls), in moto itself: a PurgeQueue
    call would be one more event on the queue. The consumer's role is assumed first: its AssumeRole is an event on
    the management account's bus too (the portal drops it: the log file counts Guardrail's own reads)."""
    from moto.sqs.models import sqs_backends

    from audit.events_delivery import EventsQueue

    EventsQueue().receive(wait_seconds=0)  # the credentials the consumer will use, cached
    arrive(server)
    sqs_backends[settings.AWS_MANAGEMENT_ACCOUNT_ID][settings.EVENTS_QUEUE_REGION or settings.AWS_DEFAULT_REGION] \
        .purge_queue(settings.EVENTS_QUEUE_NAME)


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
