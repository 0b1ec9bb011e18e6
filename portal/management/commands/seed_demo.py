from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.seeding import demo_parts


class Command(BaseCommand):
    help = ("Create or refresh the demo world: the built-ins `setup` installs, and the demo people (with a known "
            "password), teams, accounts, catalog, rules, enforcing policies and threat list (idempotent). Sandbox only.")

    def handle(self, *args, **options) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("seed_demo makes people with a known password and runs only with the sandbox "
                               "(GUARDRAIL_SANDBOX=true); a production portal is set up with `manage.py setup`")
        for part in demo_parts():
            self.stdout.write(self.style.SUCCESS(part.message.format(**part.seed())))
