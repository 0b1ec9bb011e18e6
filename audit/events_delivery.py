"""The real-time queue, through the AWS boundary: the management account's `guardrail-events` (EVENTS_QUEUE_NAME),
which EventBridge fills with every "AWS API Call via CloudTrail" event the organisation's accounts forward (the
account kit's rules). Read as the portal's role there (GuardrailPortal, the member kit's TrailQueue statement)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from portal import aws

WAIT_SECONDS = 20  # SQS's longest long poll: an empty queue costs three requests a minute
BATCH = 10  # SQS's most per ReceiveMessage


@dataclass(frozen=True)
class Message:
    message_id: str
    body: str
    receipt: str


def region() -> str:
    return settings.EVENTS_QUEUE_REGION or settings.AWS_DEFAULT_REGION


class EventsQueue:
    """One client and the queue's URL, asked once (every GetQueueUrl is itself a CloudTrail event); `forget()` after
    an error makes the next call build them again (the credentials or the endpoint may have changed)."""

    def __init__(self) -> None:
        self._sqs: Any = None
        self._url = ""

    def _queue(self) -> tuple[Any, str]:
        if self._sqs is None or not self._url:
            sqs = aws.client("sqs", account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID, region=region(),
                             session_name="guardrail-events")
            self._url = sqs.get_queue_url(QueueName=settings.EVENTS_QUEUE_NAME)["QueueUrl"]
            self._sqs = sqs
        return self._sqs, self._url

    def where(self) -> str:
        return f"{settings.EVENTS_QUEUE_NAME} in {settings.AWS_MANAGEMENT_ACCOUNT_ID}/{region()}"

    def forget(self) -> None:
        self._sqs, self._url = None, ""

    def receive(self, *, wait_seconds: int = WAIT_SECONDS) -> list[Message]:
        """Up to BATCH messages, waiting up to `wait_seconds` for the first."""
        sqs, url = self._queue()
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=wait_seconds)
        return [Message(m.get("MessageId", ""), m.get("Body", ""), m["ReceiptHandle"])
                for m in answer.get("Messages", [])]

    def delete(self, message: Message) -> None:
        sqs, url = self._queue()
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message.receipt)
