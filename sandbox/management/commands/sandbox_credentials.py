"""`manage.py sandbox_credentials USERNAME`: that person's own keys in the sandbox AWS (never stored)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal import aws
from sandbox.people import home_account_id, mint_access_key


class Command(BaseCommand):
    help = (
        "Print AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL and AWS_DEFAULT_REGION for USERNAME's "
        "own IAM user in the sandbox, so calls made outside the portal show up in CloudTrail under their name. "
        "A fresh key each time (the oldest is deleted when there are already two)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if home_account_id(user) is None:
            raise CommandError(f"{username} has no sandbox account: give them a role, and a developer a team "
                               "that owns an account.")
        self._check_endpoint()
        try:
            key = mint_access_key(user)
        except (aws.ClientError, aws.BotoCoreError, LookupError) as exc:
            raise CommandError(f"Cannot mint keys for {username}: {exc}") from exc
        for line in key.env_lines():
            self.stdout.write(line)

    @staticmethod
    def _check_endpoint() -> None:
        try:
            aws.client("sts", max_attempts=1).get_caller_identity()
        except (aws.EndpointConnectionError, aws.BotoCoreError) as exc:
            raise CommandError(f"The sandbox AWS is not answering at {settings.AWS_ENDPOINT_URL}; "
                               "start it with make run.") from exc
        except aws.ClientError as exc:
            raise CommandError(f"The sandbox AWS at {settings.AWS_ENDPOINT_URL} refused the portal's key "
                               f"({aws.error_code(exc)}).") from exc
