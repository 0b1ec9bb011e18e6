from django.core.management.base import BaseCommand

from portal.demo import demo_seed


class Command(BaseCommand):
    help = "Create or refresh the demo people, teams and accounts (idempotent)."

    def handle(self, *args, **options) -> None:
        counts = demo_seed()
        self.stdout.write(self.style.SUCCESS(
            "Demo ready: {people} people, {teams} teams, {accounts} accounts.".format(**counts)
        ))
