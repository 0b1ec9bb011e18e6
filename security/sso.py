"""Single sign-on's groups → role and teams (the rules are GroupMapping rows admins edit).

A person gets the highest role any of their groups maps to (Admin > Auditor > Developer) and exactly the teams their
groups map to: leaving a group at the provider leaves its team at the next sign-in. Groups that map to no role mean
no account: teams alone are not enough."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest

from portal import services as portal_services
from portal.models import Team
from portal.roles import Role
from security import services
from security.models import AuditEntry, GroupMapping, SsoIdentity

ROLE_ORDER = (Role.ADMIN, Role.AUDITOR, Role.DEVELOPER)


@dataclass(frozen=True)
class Decision:
    groups: list[str]
    role: Role | None
    teams: list[Team] = field(default_factory=list)

    def describe(self) -> str:
        teams = ", ".join(t.name for t in self.teams) or "none"
        return f"role {self.role.value if self.role else 'none'}; teams {teams}; groups {', '.join(self.groups) or 'none'}"


def groups_in(claims: dict, claim: str) -> list[str]:
    """The claim's groups as a sorted list of strings (a provider may send one string, a list, or nothing)."""
    raw = claims.get(claim)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        return []
    return sorted({str(g) for g in raw if str(g).strip()})


def decide(groups: list[str]) -> Decision:
    rules = list(GroupMapping.objects.filter(idp_group__in=groups).select_related("team"))
    roles = {r.role for r in rules if r.role}
    role = next((r for r in ROLE_ORDER if r.value in roles), None)
    teams = sorted({r.team for r in rules if r.team_id}, key=lambda t: t.name)
    return Decision(groups=groups, role=role, teams=teams)


def _free_username(wanted: str) -> str:
    users = get_user_model().objects
    base = (wanted or "user")[:140]
    name, n = base, 1
    while users.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def sign_in(*, issuer: str, claims: dict, decision: Decision):
    """The person for these claims, made on their first sign-in, with exactly the decision's role and teams.
    A new person gets an unusable password; an existing local account is never taken over by a name."""
    assert decision.role is not None
    identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=claims["sub"]).first()
    wanted = str(claims.get("preferred_username") or str(claims.get("email") or "").split("@")[0] or claims["sub"])
    username = identity.user.username if identity else _free_username(wanted)
    user = portal_services.user_ensure(username=username, role=decision.role, email=str(claims.get("email") or ""),
                                       first_name=str(claims.get("given_name") or "")[:150],
                                       last_name=str(claims.get("family_name") or "")[:150])
    if identity is None:
        SsoIdentity.objects.create(issuer=issuer, subject=claims["sub"], user=user)
    for team in Team.objects.filter(members=user).exclude(pk__in=[t.pk for t in decision.teams]):
        team.members.remove(user)
    for team in decision.teams:
        team.members.add(user)
    return user


def refuse(*, request: HttpRequest | None, claims: dict, decision: Decision, provider: str) -> dict:
    who = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "")
    services.audit_record(kind=AuditEntry.Kind.SSO_REFUSED, request=request, username=who, status=403,
                          summary=f"{provider}: no group maps to a role ({decision.describe()})")
    return {"username": who, "groups": decision.groups}


class MappingError(ValueError):
    pass


def _audit_mapping(*, request: HttpRequest, verb: str, mapping: GroupMapping) -> None:
    services.audit_record(kind=AuditEntry.Kind.MAPPING_CHANGED, request=request, user=request.user,
                          summary=f"{verb} rule: group '{mapping.idp_group}' → "
                                  f"{'role ' + mapping.role if mapping.role else 'team ' + str(mapping.team)}")


def mapping_add(*, request: HttpRequest, idp_group: str, role: Role | None = None,
                team: Team | None = None) -> GroupMapping:
    """A new rule (admins): the group gives a role, or membership of a team. In the audit log."""
    idp_group = idp_group.strip()
    if not idp_group or (role is None) == (team is None):
        raise MappingError("A rule maps one group to either a role or a team.")
    if GroupMapping.objects.filter(idp_group=idp_group, role=role.value if role else "", team=team).exists():
        raise MappingError(f"Group '{idp_group}' already maps to {role.value if role else team}.")
    mapping = GroupMapping.objects.create(idp_group=idp_group, role=role.value if role else "", team=team)
    _audit_mapping(request=request, verb="Added", mapping=mapping)
    return mapping


def mapping_delete(*, request: HttpRequest, pk: int) -> GroupMapping:
    mapping = GroupMapping.objects.select_related("team").get(pk=pk)
    mapping.delete()
    _audit_mapping(request=request, verb="Removed", mapping=mapping)
    return mapping
