from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from security.tokens import command_line_token


class Command(BaseCommand):
    help = (
        "Print a REST API token for USERNAME (read-write, without expiry, named 'manage.py api_token'). Tokens are "
        "stored hashed, so a new one is made each time; use it as 'Authorization: Token <token>'. People make, "
        "scope, date and revoke their own on the API tokens page."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        self.stdout.write(command_line_token(user))
