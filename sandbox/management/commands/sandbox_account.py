"""`manage.py sandbox_account ACCOUNT_ID --name NAME --team SLUG`: a new member account in the sandbox's organisation.

What AWS Organizations' CreateAccount and a StackSet do for a platform team: the running sandbox (at
AWS_ENDPOINT_URL, started by `make run`) makes the account a member of its organisation, with the
OrganizationAccountAccessRole AWS gives every account it creates, tagged team=SLUG, and deploys the member kit
into it through the sandbox's CloudFormation (the stack guardrail-member-account: the Guardrail roles trusting the
portal with its ExternalId, the trail, its bucket, queue and notification; then the Config recorder). The work happens in the sandbox server's process,
through its control endpoint POST /moto-api/guardrail/accounts.

The portal's Account row is deliberately NOT created here: connecting an account is onboarding's job (Admin →
Accounts → Connect, which runs the connection check at once; or POST /api/accounts/, then POST
/api/accounts/{id}/check/), exactly as with a real AWS account. The command prints that next step. --team must name an existing team: it is the tag onboarding's
tag-to-team rule reads.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.models import Account, Team

ACCOUNT_ID = re.compile(r"^\d{12}$")
CONTROL_PATH = "/moto-api/guardrail/accounts"


class Command(BaseCommand):
    help = (
        "Add ACCOUNT_ID to the running sandbox's AWS organisation (with OrganizationAccountAccessRole, tagged "
        "team=SLUG) and deploy the member kit into it, as a StackSet would. Then connect it in the portal "
        "(Admin → Accounts → Connect, or POST /api/accounts/): this command does not create the portal's account."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account_id", help="The 12-digit AWS account id.")
        parser.add_argument("--name", required=True, help="The account's name in the organisation.")
        parser.add_argument("--team", required=True, help="Slug of the portal team that will own it.")
        parser.add_argument("--email", default="", help="The account's root email (default aws+NAME@example.com).")

    def handle(self, *args: Any, account_id: str, name: str, team: str, email: str, **options: Any) -> None:
        account_id, name = account_id.strip(), name.strip()
        if not ACCOUNT_ID.match(account_id):
            raise CommandError(f"{account_id!r} is not an AWS account id (12 digits).")
        if account_id == settings.AWS_MANAGEMENT_ACCOUNT_ID:
            raise CommandError(f"{account_id} is the management account (AWS_MANAGEMENT_ACCOUNT_ID), not a member.")
        if not name:
            raise CommandError("--name must not be empty.")
        found = Team.objects.filter(slug=team).first()
        if found is None:
            known = ", ".join(Team.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No team with slug {team!r} (teams: {known}).")
        if not settings.AWS_ENDPOINT_URL:
            raise CommandError("AWS_ENDPOINT_URL is not set: this command talks to the sandbox (make run).")
        answer = self._post({"account_id": account_id, "name": name, "email": email, "team": found.slug})
        for line in answer.get("created", []):
            self.stdout.write(f"  created  {line}")
        self.stdout.write(self.style.SUCCESS(
            f"Account {account_id} ({name}) is in the sandbox's organisation with the member kit: "
            f"{len(answer.get('created', []))} created, {len(answer.get('existing', []))} already there."))
        existing = Account.objects.filter(account_id=account_id).first()
        if existing is not None:
            self.stdout.write(f"The portal already knows it as {existing.name!r} (team {existing.team.slug}); run "
                              "its connection check from Admin → Accounts.")
        else:
            self.stdout.write(
                f"Next: connect it in the portal — Admin → Accounts → Connect (account {account_id}, team "
                f"{found.slug}), or POST /api/accounts/ {{\"account_id\": \"{account_id}\", \"name\": \"{name}\", "
                f"\"team\": \"{found.slug}\"}} then POST /api/accounts/{account_id}/check/ (the connection check).")

    def _post(self, payload: dict[str, str]) -> dict[str, Any]:
        url = settings.AWS_ENDPOINT_URL.rstrip("/") + CONTROL_PATH
        request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (the configured sandbox)
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                reason = json.loads(exc.read() or b"{}").get("error") or exc.reason
            except ValueError:
                reason = exc.reason
            raise CommandError(f"The sandbox refused the account: {reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(f"No sandbox answers at {settings.AWS_ENDPOINT_URL} ({exc}); start it with `make run` "
                               "or `manage.py sandbox`.") from exc
