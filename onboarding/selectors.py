from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from onboarding.models import ConnectionCheck, OnboardingRule, rule_team
from portal.models import Account, Team
from triage.models import OrgAccount


def check_latest(*, account: Account) -> ConnectionCheck | None:
    return account.connection_checks.order_by("-created", "-id").first()


def check_get(*, account: Account, check_id: int) -> ConnectionCheck | None:
    return account.connection_checks.filter(pk=check_id).first()


def rules() -> QuerySet[OnboardingRule]:
    return OnboardingRule.objects.select_related("team")


@dataclass
class Candidate:
    org_account: OrgAccount
    team: Team | None  # what the rules say
    onboarded: Account | None


def organization_candidates() -> list[Candidate]:
    """Every account AWS Organizations listed at the last sync, with the team the rules give it and whether the
    portal already has it."""
    known = {a.account_id: a for a in Account.objects.select_related("team")}
    all_rules = list(rules())
    return [Candidate(org_account=o, team=rule_team(all_rules, ou_path=o.ou_path, tags=o.tags or {}), onboarded=known.get(o.account_id))
            for o in OrgAccount.objects.exclude(status__in=["SUSPENDED", "CLOSED"]).order_by("ou_path", "name")]
