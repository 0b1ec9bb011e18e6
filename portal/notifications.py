"""Telling people: in-app, by email, and to SNS topics (through the AWS boundary)."""

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail

from portal import aws
from portal.models import Notification

log = logging.getLogger(__name__)


def notify(*, subject: str, body: str = "", url: str = "", level: str = "info",
           users: list[AbstractBaseUser] = (), emails: list[str] = (), sns_topic_arns: list[str] = ()) -> None:
    """Each channel is tried on its own: a failing email or topic never stops the others."""
    recipients = set(emails)
    for user in users:
        Notification.objects.create(user=user, subject=subject[:200], body=body, url=url, level=level)
        if user.email:
            recipients.add(user.email)
    if recipients:
        try:
            send_mail(subject, f"{body}\n\n{url}".strip(), settings.DEFAULT_FROM_EMAIL, sorted(recipients))
        except Exception:  # noqa: BLE001 — a mail server problem must not undo the launch's outcome
            log.exception("notify: email to %s failed", sorted(recipients))
    for arn in sns_topic_arns:
        account, region = arn.split(":")[4], arn.split(":")[3]
        try:
            aws.client("sns", account_id=account, region=region, max_attempts=1).publish(
                TopicArn=arn, Subject=subject[:100], Message=f"{body}\n{url}".strip())
        except (aws.ClientError, aws.BotoCoreError) as exc:
            log.warning("notify: SNS %s failed: %s", arn, aws.error_code(exc))
