from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken


class Command(BaseCommand):
    help = (
        "Print a REST API token for USERNAME. Tokens are stored hashed, so a new one is made each time; "
        "use it as 'Authorization: Token <token>'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        _, token = AuthToken.objects.create(user=user, expiry=None)
        self.stdout.write(token)
