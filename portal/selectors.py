"""Reads of people, teams and accounts, scoped to what the caller may see."""

from collections import Counter

from django.db.models import Count, QuerySet

from portal.models import Account, Heartbeat, Team
from portal.roles import User, is_developer, sees_everything


def teams_visible_to(*, user: User) -> QuerySet[Team]:
    teams = Team.objects.annotate(account_count=Count("accounts", distinct=True)).order_by("name")
    if sees_everything(user):
        return teams
    if is_developer(user):
        return teams.filter(members=user)
    return teams.none()


def accounts_visible_to(*, user: User) -> QuerySet[Account]:
    accounts = Account.objects.select_related("team")
    if sees_everything(user):
        return accounts
    if is_developer(user):
        return accounts.filter(team__members=user).distinct()
    return accounts.none()


def region_counts(*, accounts: QuerySet[Account]) -> list[tuple[str, int]]:
    """How many of these accounts allow each region, most allowed first."""
    counts = Counter(region for regions in accounts.values_list("allowed_regions", flat=True) for region in regions)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def account_for_user(*, user: User, account_id: str) -> Account | None:
    return accounts_visible_to(user=user).filter(account_id=account_id).first()


def heartbeat_get(*, name: str) -> Heartbeat | None:
    return Heartbeat.objects.filter(name=name).first()
