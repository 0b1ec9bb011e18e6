import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from portal.installation import PASSWORD_ENV, SetupError, admin_password_read, portal_setup


class Command(BaseCommand):
    help = ("Set up a production portal: install the built-in rules, signatures and remediation policies (policies "
            "in dry run) and create the first admin. The password comes from --admin-password-file or "
            f"{PASSWORD_ENV}, never from the command line, and is never printed. Running it again changes nothing.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--admin", "--admin-username", dest="admin_username",
                            default=os.environ.get("GUARDRAIL_ADMIN_USERNAME", ""),
                            help="the first admin's username (default: GUARDRAIL_ADMIN_USERNAME)")
        parser.add_argument("--email", "--admin-email", dest="admin_email",
                            default=os.environ.get("GUARDRAIL_ADMIN_EMAIL", ""),
                            help="the first admin's email (default: GUARDRAIL_ADMIN_EMAIL)")
        parser.add_argument("--admin-password-file", default=None,
                            help=f"a file holding the first admin's password (else {PASSWORD_ENV} or "
                                 f"{PASSWORD_ENV}_FILE)")

    @staticmethod
    def _ask() -> str | None:
        """At a terminal, with no password given another way: asked twice, never echoed."""
        first = getpass.getpass("The first admin's password: ")
        if first and getpass.getpass("Again: ") != first:
            raise SetupError("the two passwords differ")
        return first or None

    def handle(self, *args, **options) -> None:
        try:
            password = admin_password_read(password_file=options["admin_password_file"], environ=os.environ)
            if password is None and sys.stdin.isatty():
                password = self._ask()
            result = portal_setup(admin_username=options["admin_username"].strip(),
                                  admin_email=options["admin_email"].strip(), admin_password=password)
        except SetupError as exc:
            raise CommandError(f"setup: {exc}") from None
        for line in result.installed:
            self.stdout.write(line)
        username = options["admin_username"].strip()
        if result.admin_created:
            self.stdout.write(f"Admin {username!r} created: sign in with the password you gave.")
        else:
            self.stdout.write(f"Admin {username!r} exists: left as it is (setup never changes a password; "
                              f"`manage.py changepassword {username}` does).")
        if result.changed:
            self.stdout.write(self.style.SUCCESS("Guardrail is set up."))
        else:
            self.stdout.write(self.style.SUCCESS("Nothing to change: Guardrail was already set up."))
