"""Connection checks started and run; accounts onboarded, one by one or in bulk from AWS Organizations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from onboarding import checks
from onboarding.models import ConnectionCheck, OnboardingRule, rule_team
from portal import queue, runs, services as portal_services
from portal.models import Account, Team
from triage.models import OrgAccount

CHECK_TASK = "onboarding.tasks.connection_check_run"


def runs_register() -> None:
    """A check whose worker stopped, or whose message was lost, is run again (it only reads)."""
    runs.register(ConnectionCheck, task=CHECK_TASK, stale_after=timedelta(minutes=10), max_attempts=3)


def check_start(*, account: Account, user: User | None) -> ConnectionCheck:
    check = ConnectionCheck.objects.create(account=account, requested_by=user)
    queue.enqueue(CHECK_TASK, check.pk)
    return check


def check_now(*, account: Account, user: User | None) -> ConnectionCheck:
    """A check run in this process (the API's answer carries every line); a row like any other."""
    check = ConnectionCheck.objects.create(account=account, requested_by=user)
    check_run(check.pk)
    check.refresh_from_db()
    return check


def check_run(check_id: int) -> str:
    """Claim the check (a second delivery finds it claimed and does nothing), run every probe, keep each line as it
    comes so the page shows progress."""
    if not ConnectionCheck.run_claim(check_id):
        return "not claimed"
    check = ConnectionCheck.objects.select_related("account").get(pk=check_id)
    account = check.account
    target = checks.Target(account_id=account.account_id, regions=tuple(account.allowed_regions),
                           reader_role=account.portal_role_name,
                           management=account.account_id == settings.AWS_MANAGEMENT_ACCOUNT_ID)

    def progress(lines: list[dict[str, str]]) -> None:
        ConnectionCheck.objects.filter(pk=check_id).update(lines=lines, updated=timezone.now())

    lines = checks.run(target, progress)
    failed = any(line["status"] == checks.FAILED for line in lines)
    status = ConnectionCheck.Status.FAILED if failed else ConnectionCheck.Status.PASSED
    ConnectionCheck.run_finish(check_id, status=status, lines=lines, finished=timezone.now())
    return status


# --- rules and bulk onboarding ---

def rule_add(*, kind: str, match: str, team: Team) -> OnboardingRule:
    match = match.strip()
    if kind == OnboardingRule.Kind.TAG and "=" not in match:
        raise ValidationError({"match": "A tag rule is key=value, e.g. team=payments."})
    rule = OnboardingRule(kind=kind, match=match, team=team,
                          position=(OnboardingRule.objects.count() + 1) * 10)
    rule.full_clean()
    rule.save()
    return rule


def rule_delete(*, rule_id: int) -> None:
    OnboardingRule.objects.filter(pk=rule_id).delete()


def team_for(org_account: OrgAccount, rules: list[OnboardingRule]) -> Team | None:
    return rule_team(rules, ou_path=org_account.ou_path, tags=org_account.tags or {})


@dataclass
class BulkResult:
    onboarded: list[Account]
    skipped: dict[str, str]  # account id → why
    checks: list[ConnectionCheck]


def _unique_name(name: str, account_id: str) -> str:
    name = (name or account_id)[:100]
    if Account.objects.filter(name=name).exclude(account_id=account_id).exists():
        name = f"{name[:86]} ({account_id})"
    return name


def accounts_onboard(*, account_ids: list[str], default_team: Team | None, regions: list[str],
                     user: User | None) -> BulkResult:
    """Each chosen organisation account becomes a portal account of the team its rule names (else the default
    team), and gets a connection check. One bad account does not stop the rest; each skip says why."""
    rules = list(OnboardingRule.objects.select_related("team"))
    found = {a.account_id: a for a in OrgAccount.objects.filter(account_id__in=account_ids)}
    result = BulkResult([], {}, [])
    for account_id in dict.fromkeys(account_ids):
        org_account = found.get(account_id)
        if org_account is None:
            result.skipped[account_id] = "not in the organisation as last synced"
            continue
        if Account.objects.filter(account_id=account_id).exists():
            result.skipped[account_id] = "already onboarded"
            continue
        team = team_for(org_account, rules) or default_team
        if team is None:
            result.skipped[account_id] = "no rule matches its OU or tags, and no default team was chosen"
            continue
        try:
            with transaction.atomic():
                account = portal_services.account_ensure(
                    account_id=account_id, name=_unique_name(org_account.name, account_id), team=team,
                    allowed_regions=regions)
        except ValidationError as exc:
            result.skipped[account_id] = "; ".join(exc.messages)
            continue
        result.onboarded.append(account)
        result.checks.append(check_start(account=account, user=user))
    return result
