"""Where a launch goes: which of the team's accounts, which region, and as which launch role.

A developer picks among her granted teams' accounts and each account's allowed regions, narrowed by the product's
TARGET constraints (a constraint naming one account or one region pins it). Without a choice the launch goes, as
it always did, to the first granted team's first account (by name) and its first allowed region in the order of
settings.AWS_REGIONS. The launch role must be in the launch's account: a LAUNCH constraint's role_arn works in its
own account only; its local_role_name is the role of that name in whichever account the launch goes to.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError

from catalog import selectors
from catalog.models import Constraint, ConstraintType, Product
from portal import aws
from portal.models import Account, Team

ACCOUNT_ID_RULE = "An AWS account id is 12 digits."


@dataclass(frozen=True)
class TargetAccount:
    """One account a launch may go to, the team it launches for, and its regions (the default first)."""

    account: Account
    team: Team
    regions: tuple[str, ...]
    accounts_limited: bool = False  # a TARGET constraint names the accounts
    regions_limited: bool = False  # a TARGET constraint names the regions

    def as_dict(self) -> dict:
        return {"account_id": self.account.account_id, "name": self.account.name, "team": self.team.slug,
                "regions": list(self.regions), "region": self.regions[0]}


@dataclass(frozen=True)
class LaunchTargets:
    """The accounts a launch of a product may go to, the default first."""

    teams: tuple[Team, ...]
    accounts: tuple[TargetAccount, ...]
    excluded: dict[str, str] = field(default_factory=dict)  # the teams' account ids a constraint rules out: why

    @property
    def default(self) -> TargetAccount | None:
        return self.accounts[0] if self.accounts else None

    def find(self, account_id: str) -> TargetAccount | None:
        return next((t for t in self.accounts if t.account.account_id == account_id), None)

    @property
    def account_pinned(self) -> bool:
        return len(self.accounts) == 1 and self.accounts[0].accounts_limited

    def as_dict(self) -> dict:
        default = self.default
        return {"accounts": [t.as_dict() for t in self.accounts],
                "account_id": default.account.account_id if default else None,
                "region": default.regions[0] if default else None,
                "account_pinned": self.account_pinned,
                "region_pinned": bool(default and len(default.regions) == 1 and default.regions_limited)}


def _limits(constraints: list[Constraint]) -> tuple[set[str] | None, set[str] | None]:
    """The accounts and regions the TARGET constraints leave (None: not limited); several constraints intersect."""
    accounts: set[str] | None = None
    regions: set[str] | None = None
    for c in constraints:
        if c.type != ConstraintType.TARGET:
            continue
        if c.definition.get("account_ids"):
            named = set(c.definition["account_ids"])
            accounts = named if accounts is None else accounts & named
        if c.definition.get("regions"):
            named = set(c.definition["regions"])
            regions = named if regions is None else regions & named
    return accounts, regions


def regions_in_launch_order(allowed: list[str]) -> list[str]:
    """The account's allowed regions, those of settings.AWS_REGIONS first (in its order)."""
    preferred = [r for r in settings.AWS_REGIONS if r in allowed]
    return preferred + [r for r in allowed if r not in preferred]


def launch_targets_for(*, product: Product, teams: list[Team]) -> LaunchTargets:
    """Where developers of `teams` may launch `product` (teams not granted it are left out)."""
    granted = set(selectors.teams_granted(product=product).values_list("pk", flat=True))
    teams = sorted((t for t in teams if t.pk in granted), key=lambda t: t.name)
    accounts: list[TargetAccount] = []
    excluded: dict[str, str] = {}
    for team in teams:
        account_limit, region_limit = _limits(list(selectors.constraints_for(product=product, teams=[team])))
        for account in team.accounts.order_by("name"):
            if account_limit is not None and account.account_id not in account_limit:
                excluded[account.account_id] = (f"an admin limited {product.name} to account(s) "
                                                 f"{', '.join(sorted(account_limit)) or 'none'}")
                continue
            regions = [r for r in regions_in_launch_order(account.allowed_regions)
                       if region_limit is None or r in region_limit]
            if not regions:
                excluded[account.account_id] = (f"an admin limited {product.name} to region(s) "
                                                f"{', '.join(sorted(region_limit or [])) or 'none'}, and none of "
                                                f"them is allowed in {account.name}")
                continue
            accounts.append(TargetAccount(account=account, team=team, regions=tuple(regions),
                                          accounts_limited=account_limit is not None,
                                          regions_limited=region_limit is not None))
    return LaunchTargets(teams=tuple(teams), accounts=tuple(accounts), excluded=excluded)


def launch_targets(*, user: AbstractBaseUser, product: Product) -> LaunchTargets:
    """Where `user` may launch `product`; refused when she may launch it nowhere, saying why."""
    targets = launch_targets_for(product=product, teams=list(Team.objects.filter(members=user)))
    if not targets.teams:
        raise PermissionDenied("Only developers of a team granted this product may launch it.")
    if not targets.accounts:
        if targets.excluded:
            reasons = sorted(set(targets.excluded.values()))
            raise ValidationError({"product": f"{_teams_name(targets.teams).capitalize()} may launch "
                                              f"{product.name} in none of its accounts: {'; '.join(reasons)}."})
        raise ValidationError({"product": "Your team has no AWS account to launch into; ask an admin to add one."})
    return targets


def _teams_name(teams: tuple[Team, ...]) -> str:
    if len(teams) == 1:
        return f"team {teams[0].slug}"
    return f"teams {', '.join(t.slug for t in teams)}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def launch_target_choose(targets: LaunchTargets, *, account_id=None, region=None) -> tuple[TargetAccount, str]:
    """The account and region asked for (the defaults where not given), or ValidationError naming the field."""
    target = targets.default
    if target is None:
        raise ValidationError({"product": "There is no account to launch into."})
    if account_id not in (None, ""):
        account_id = str(account_id).strip()
        chosen = targets.find(account_id)
        if chosen is None:
            raise ValidationError({"account_id": _refusal(targets, account_id)})
        target = chosen
    if region in (None, ""):
        return target, target.regions[0]
    if not isinstance(region, str) or region not in target.regions:
        raise ValidationError({"region": f"{region} is not a region this product may be launched in, in "
                                         f"{target.account.name} ({target.account.account_id}): use one of "
                                         f"{', '.join(target.regions)}."})
    return target, region


def _refusal(targets: LaunchTargets, account_id: str) -> str:
    if not account_id.isdigit() or len(account_id) != 12:
        return f"{account_id!r} is not an AWS account id. {ACCOUNT_ID_RULE}"
    if account_id in targets.excluded:
        return f"{account_id} may not be launched into: {targets.excluded[account_id]}."
    if len(targets.teams) == 1:
        return f"{account_id} is not one of {_possessive(_teams_name(targets.teams))} accounts."
    return f"{account_id} is not one of the accounts of {_teams_name(targets.teams)}."


def launch_role_for(constraints: list[Constraint], account_id: str) -> str:
    """The launch role's ARN for a launch into `account_id`; refused when the role is in another account."""
    launch = next((c for c in constraints if c.type == ConstraintType.LAUNCH), None)
    if launch is None:
        raise ValidationError({"product": "This product has no launch constraint: an admin must name the role "
                                          "the portal launches it as."})
    if launch.definition.get("local_role_name"):
        return aws.role_arn(account_id, launch.definition["local_role_name"])
    arn = launch.definition["role_arn"]
    role_account = arn.split(":")[4]
    if role_account != account_id:
        raise ValidationError({"account_id": (
            f"The launch role {arn} is in account {role_account}, and a launch role must be in the account it "
            f"launches into ({account_id}). Launch into {role_account}, or ask an admin for a launch constraint "
            f"with local_role_name (the role of that name in each account).")})
    return arn
