from django.core.management.base import BaseCommand

from portal.seeding import demo_parts


class Command(BaseCommand):
    help = "Create or refresh the demo people, teams, accounts, catalog, rules, policies and signatures (idempotent)."

    def handle(self, *args, **options) -> None:
        for part in demo_parts():
            self.stdout.write(self.style.SUCCESS(part.message.format(**part.seed())))
