"""The demo world of CONTRACT.md: people, teams and sandbox accounts. Seeded by `seed_demo`."""

from django.conf import settings
from django.db import transaction

from portal import services
from portal.roles import Role

DEMO_PEOPLE = [
    {"username": "adam", "role": Role.ADMIN, "first_name": "Adam", "teams": ["Platform"]},
    {"username": "daisy", "role": Role.DEVELOPER, "first_name": "Daisy", "teams": ["Payments"]},
    {"username": "dan", "role": Role.DEVELOPER, "first_name": "Dan", "teams": ["Research"]},
    {"username": "audrey", "role": Role.AUDITOR, "first_name": "Audrey", "teams": []},
]

DEMO_TEAMS = {
    "Platform": "Cloud platform team: runs Guardrail and the management account.",
    "Payments": "Payments: card processing services.",
    "Research": "Research: data science experiments.",
}

DEMO_ACCOUNTS = [
    {"account_id": settings.AWS_MANAGEMENT_ACCOUNT_ID, "name": "guardrail-management", "team": "Platform",
     "allowed_regions": ["us-east-1", "eu-west-1"]},
    {"account_id": "111111111111", "name": "payments-prod", "team": "Payments",
     "allowed_regions": ["us-east-1", "eu-west-1"]},
    {"account_id": "222222222222", "name": "research-dev", "team": "Research",
     "allowed_regions": ["us-east-1", "us-west-2"]},
]


@transaction.atomic
def demo_seed() -> dict[str, int]:
    """Create or refresh the demo world; running it again changes nothing."""
    teams = {name: services.team_ensure(name=name, description=desc) for name, desc in DEMO_TEAMS.items()}
    for person in DEMO_PEOPLE:
        user = services.user_ensure(
            username=person["username"], role=person["role"], password=settings.DEMO_PASSWORD,
            first_name=person["first_name"], email=f"{person['username']}@example.com",
        )
        for team in person["teams"]:
            teams[team].members.add(user)
    for spec in DEMO_ACCOUNTS:
        services.account_ensure(
            account_id=spec["account_id"], name=spec["name"], team=teams[spec["team"]],
            allowed_regions=spec["allowed_regions"],
        )
    return {"people": len(DEMO_PEOPLE), "teams": len(teams), "accounts": len(DEMO_ACCOUNTS)}
