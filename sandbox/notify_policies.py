"""What an AWS service may send where, checked against the destination's resource policy as AWS checks it.

moto 5.2.5 sends every notification whatever the destination's policy says. AWS does not:

- S3 PutBucketNotificationConfiguration: S3 sends a test message to each queue and topic of the configuration
  when it is put, and refuses the whole configuration (400 InvalidArgument "Unable to validate the following
  destination configurations", the ARN and the reason as ArgumentName1/ArgumentValue1...) when a destination
  does not exist or its policy does not let s3.amazonaws.com sqs:SendMessage (a queue) or sns:Publish (a topic)
  for this bucket (aws:SourceArn arn:aws:s3:::<bucket>, aws:SourceAccount its owner). The CloudFormation path
  (sandbox.cfn_types.storage) uses the same check. Later, an object's notification is delivered only while the
  policy still allows it (else dropped, and logged here).
- S3 → EventBridge: the bucket's events go to the account's default bus and are routed as every event is
  (sandbox.eventroutes: rule state and pattern, the queue's or topic's policy for events.amazonaws.com).
- SNS → SQS: a subscribed queue gets the message only if its policy lets sns.amazonaws.com sqs:SendMessage
  (aws:SourceArn the topic, aws:SourceAccount the topic's account); a queue in the topic's own account is not
  exempt. Otherwise SNS drops the message (NumberOfNotificationsFailed), logged here.
- CloudTrail CreateTrail/UpdateTrail with SnsTopicName: the topic must exist and let cloudtrail.amazonaws.com
  sns:Publish (aws:SourceArn the trail), else 400 InsufficientSnsTopicPolicyException "SNS Topic does not exist
  or the topic policy is incorrect!".

`register()` patches moto's backends once (safe to call again); the sandbox server calls it when it starts.
"""

from __future__ import annotations

import contextvars
import copy
import datetime
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape

from moto.s3.exceptions import S3ClientError

from sandbox.eventroutes import _policy, _ServicePrincipal, resource_policy_allows, route

log = logging.getLogger(__name__)

S3, SNS, CLOUDTRAIL = "s3.amazonaws.com", "sns.amazonaws.com", "cloudtrail.amazonaws.com"
UNABLE = "Unable to validate the following destination configurations"
TOPIC_REFUSED = "SNS Topic does not exist or the topic policy is incorrect!"

_bucket: contextvars.ContextVar[Any] = contextvars.ContextVar("sandbox_notifying_bucket", default=None)
_registered = False


# --- destinations ---

def _split(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def _backend(backends: Any, arn: str, service: str) -> Any:
    """The account's and region's backend of the ARN's service, or None (never creates an account's backends)."""
    parts = _split(arn)
    if parts is None or parts[2] != service:
        return None
    per_account = dict.get(backends, parts[4])
    return dict.get(per_account, parts[3]) if per_account is not None else None


def queue_at(arn: str) -> Any:
    """The queue with this ARN, or None."""
    from moto.sqs.models import sqs_backends

    backend = _backend(sqs_backends, arn, "sqs")
    return backend.queues.get(arn.split(":", 5)[5]) if backend is not None else None


def topic_at(arn: str) -> Any:
    """The topic with this ARN, or None."""
    from moto.sns.models import sns_backends

    backend = _backend(sns_backends, arn, "sns")
    return backend.topics.get(arn) if backend is not None else None


def service_may(service: str, action: str, resource_arn: str, policy: Any, source_arn: str,
                source_account: str) -> bool:
    """The resource policy lets `service` do `action` on `resource_arn` on behalf of `source_arn` (conditions on
    aws:SourceArn and aws:SourceAccount evaluated as AWS does; a missing policy allows nothing)."""
    principal = _ServicePrincipal(service, source_arn, source_account)
    return resource_policy_allows(_policy(policy), principal, action, resource_arn)


def s3_refusal(bucket_name: str, owner: str, arn: str) -> str:
    """'' if S3 may notify the queue or topic `arn` of the bucket's events, else the reason (AWS's wording)."""
    source = f"arn:aws:s3:::{bucket_name}"
    for marker, noun, find, action in ((":sqs:", "queue", queue_at, "sqs:SendMessage"),
                                       (":sns:", "topic", topic_at, "sns:Publish")):
        if marker not in arn:
            continue
        target = find(arn)
        if target is None:
            return f"The destination {noun} does not exist"
        if not service_may(S3, action, arn, target.policy, source, owner):
            return f"Permissions on the destination {noun} do not allow S3 to publish notifications from this bucket"
        return ""
    return ""  # Lambda functions: not checked by the sandbox


def refused_destinations(bucket_name: str, owner: str, arns: list[str]) -> dict[str, str]:
    """The destinations S3 could not validate, with why (an empty dict: every one is fine)."""
    refused = {}
    for arn in dict.fromkeys(arns):
        reason = s3_refusal(bucket_name, owner, arn)
        if reason:
            refused[arn] = reason
    return refused


class DestinationsNotValidated(S3ClientError):
    """S3's 400 InvalidArgument for a notification configuration whose destinations cannot be validated."""

    code = "InvalidArgument"

    def __init__(self, refused: Mapping[str, str]) -> None:
        super().__init__("InvalidArgument", UNABLE)
        self.refused = dict(refused)

    def xml(self, request_id: str) -> str:
        """AWS's error document: each destination it could not validate as ArgumentNameN (its ARN) and
        ArgumentValueN (why)."""
        pairs = "".join(f"<ArgumentName{n}>{escape(arn)}</ArgumentName{n}><ArgumentValue{n}>{escape(why)}"
                        f"</ArgumentValue{n}>" for n, (arn, why) in enumerate(self.refused.items(), start=1))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>{UNABLE}'
                f"</Message>{pairs}<RequestId>{escape(request_id)}</RequestId><HostId>{escape(request_id)}</HostId>"
                "</Error>")


def _api_arns(config: Mapping[str, Any]) -> list[str]:
    """The queue and topic ARNs of a configuration in moto's stored (XML API) shape."""
    arns = []
    for key, field in (("QueueConfiguration", "Queue"), ("TopicConfiguration", "Topic")):
        items = config.get(key) or []
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, Mapping) and item.get(field):
                arns.append(str(item[field]))
    return arns


# --- the patches ---

def _checked_put_notifications(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_bucket_notification_configuration(self: Any, bucket_name: str, notification_config: Any) -> None:
        bucket = self.get_bucket(bucket_name)
        refused = refused_destinations(bucket.name, bucket.account_id, _api_arns(notification_config or {}))
        if refused:
            log.info("sandbox: S3 refused the notification configuration of %s: %s", bucket.name, refused)
            raise DestinationsNotValidated(refused)
        with notifying(bucket):
            return original(self, bucket_name, notification_config)

    put_bucket_notification_configuration.__wrapped__ = original  # type: ignore[attr-defined]
    return put_bucket_notification_configuration


@contextmanager
def notifying(bucket: Any) -> Iterator[None]:
    token = _bucket.set(bucket)
    try:
        yield
    finally:
        _bucket.reset(token)


def _answered_put(original: Callable[..., Any]) -> Callable[..., Any]:
    """S3Response's bucket PUT, answering a refused notification configuration with AWS's full error document
    (moto's serializer has no shape for S3's InvalidArgument, so it would leave out the ARNs)."""
    def _bucket_response_put(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, request, *args, **kwargs)
        except DestinationsNotValidated as refused:
            request_id = str(uuid.uuid4()).replace("-", "")[:16].upper()
            return 400, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, refused.xml(request_id)

    _bucket_response_put.__wrapped__ = original  # type: ignore[attr-defined]
    return _bucket_response_put


def _with_bucket(original: Callable[..., Any]) -> Callable[..., Any]:
    def send(account_id: str, *args: Any, **kwargs: Any) -> None:
        bucket = kwargs.get("bucket", args[1] if len(args) > 1 else None)
        with notifying(bucket):
            return original(account_id, *args, **kwargs)

    send.__wrapped__ = original  # type: ignore[attr-defined]
    return send


def _allowed_from_bucket(original: Callable[..., Any], kind: str) -> Callable[..., Any]:
    """moto's _send_sqs_message / _send_sns_message, sending only what the destination's policy allows now."""
    def send(account_id: str, event_body: Any, destination: str, region_name: str) -> None:
        bucket = _bucket.get()
        arn = destination if kind == "sns" else f"arn:aws:sqs:{region_name}:{account_id}:{destination}"
        if bucket is not None:
            reason = s3_refusal(bucket.name, bucket.account_id, arn)
            if reason:
                log.info("sandbox: S3 did not notify %s of an event in bucket %s: %s", arn, bucket.name, reason)
                return None
        return original(account_id, event_body, destination, region_name)

    send.__wrapped__ = original  # type: ignore[attr-defined]
    return send


def _to_event_bridge(detail_type: Callable[[str], str]) -> Callable[..., None]:
    """S3's events on the account's default bus, routed as AWS routes them (sandbox.eventroutes)."""
    def send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        try:
            event = {
                "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type(event_name), "source": "aws.s3",
                "account": account_id, "region": bucket.region_name, "resources": [bucket.arn],
                "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "detail": {
                    "version": "0", "bucket": {"name": bucket.name},
                    "object": {"key": key.name, "size": key.size, "eTag": key.etag.replace('"', ""),
                               "version-id": key.version_id, "sequencer": "617f08299329d189"},
                    "request-id": "N4N7GDK58NMKJ12R", "requester": account_id,
                    "source-ip-address": "1.2.3.4", "reason": event_name.split(":")[1],
                },
            }
            route(copy.deepcopy(event), account_id, bucket.region_name)
        except Exception:  # asynchronous in AWS: the object's write succeeds whatever happens here
            log.exception("sandbox: S3 could not send the EventBridge event of s3://%s/%s", bucket.name, key.name)

    return send


def _checked_subscription_publish(original: Callable[..., Any]) -> Callable[..., Any]:
    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if self.protocol == "sqs":
            queue = queue_at(self.endpoint)
            topic_arn = self.topic.arn
            if queue is None or not service_may(SNS, "sqs:SendMessage", self.endpoint, queue.policy, topic_arn,
                                                topic_arn.split(":")[4]):
                why = "the queue does not exist" if queue is None else (
                    f"its policy does not let {SNS} sqs:SendMessage from {topic_arn}")
                log.info("sandbox: SNS did not deliver message %s of %s to %s: %s", message_id, topic_arn,
                         self.endpoint, why)
                return None
        return original(self, message, message_id, *args, **kwargs)

    publish.__wrapped__ = original  # type: ignore[attr-defined]
    return publish


def trail_topic_arn(trail: Any, name: str | None) -> str:
    """The topic a trail's SnsTopicName names: an ARN as given, a name in the trail's account and region."""
    if not name:
        return ""
    return name if name.startswith("arn:") else f"arn:aws:sns:{trail.region_name}:{trail.account_id}:{name}"


def check_trail_topic(trail: Any, name: str | None) -> None:
    """CloudTrail's own check of SnsTopicName: the topic exists and lets cloudtrail.amazonaws.com publish."""
    from moto.cloudtrail.exceptions import InsufficientSnsTopicPolicyException

    arn = trail_topic_arn(trail, name)
    if not arn:
        return
    topic = topic_at(arn)
    if topic is None or not service_may(CLOUDTRAIL, "sns:Publish", arn, topic.policy, trail.arn, trail.account_id):
        raise InsufficientSnsTopicPolicyException(TOPIC_REFUSED)


def _checked_update_trail(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_trail(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        topic = kwargs.get("sns_topic_name", args[2] if len(args) > 2 else None)
        if topic:
            check_trail_topic(self.get_trail(name_or_arn=name), topic)
        return original(self, name, *args, **kwargs)

    update_trail.__wrapped__ = original  # type: ignore[attr-defined]
    return update_trail


def register() -> None:
    """Patch moto's S3, SNS and CloudTrail backends (once; calling again changes nothing)."""
    global _registered
    if _registered:
        return
    from moto.cloudtrail.models import CloudTrailBackend, Trail
    from moto.s3 import notifications
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response
    from moto.sns.models import Subscription

    S3Backend.put_bucket_notification_configuration = _checked_put_notifications(  # type: ignore[method-assign]
        S3Backend.put_bucket_notification_configuration)
    S3Response._bucket_response_put = _answered_put(S3Response._bucket_response_put)  # type: ignore[method-assign]
    notifications.send_event = _with_bucket(notifications.send_event)
    notifications._send_sqs_message = _allowed_from_bucket(notifications._send_sqs_message, "sqs")
    notifications._send_sns_message = _allowed_from_bucket(notifications._send_sns_message, "sns")
    notifications._send_event_bridge_message = _to_event_bridge(notifications._detail_type)
    Subscription.publish = _checked_subscription_publish(Subscription.publish)  # type: ignore[method-assign]
    Trail.check_topic_exists = lambda self: check_trail_topic(self, self.sns_topic_name)  # type: ignore[method-assign]
    CloudTrailBackend.update_trail = _checked_update_trail(  # type: ignore[method-assign]
        CloudTrailBackend.update_trail)
    _registered = True


__all__ = ["DestinationsNotValidated", "check_trail_topic", "refused_destinations", "register", "s3_refusal",
           "service_may"]
