"""Single sign-on in Chromium through a real OpenID Connect provider process (oidc-provider-mock on 127.0.0.1):
an admin, a developer and an auditor land with the role and teams of their groups and sign out here and at the
provider; a group change moves a person at the next sign-in; unmapped groups get the refusal page; a person whose
tokens the provider revoked is signed out at the next session check."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.models import Team
from portal.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def sso(live_server, live_people, oidc_provider, settings):
    from security import oidc
    from security.models import GroupMapping

    settings.OIDC_ISSUER_URL, settings.OIDC_ENABLED = oidc_provider.url, True
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "guardrail", "not-a-real-secret"
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "security.oidc.SsoBackend"]
    oidc.forget_discovery()
    for group, role in (("idp-admins", Role.ADMIN), ("idp-devs", Role.DEVELOPER), ("idp-auditors", Role.AUDITOR)):
        GroupMapping.objects.create(idp_group=group, role=role)
    for group, slug in (("idp-payments", "payments"), ("idp-research", "research")):
        GroupMapping.objects.create(idp_group=group, team=Team.objects.get(slug=slug))
    yield oidc_provider
    oidc.forget_discovery()


def _sign_in(page, base_url: str, sub: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def _teams(username: str) -> list[str]:
    return sorted(Team.objects.filter(members__username=username).values_list("name", flat=True))


@pytest.mark.parametrize(("sub", "groups", "role", "teams"), [
    ("ada", ["idp-admins", "idp-payments"], "Admin", ["Payments"]),
    ("dev", ["idp-devs", "idp-payments", "idp-research"], "Developer", ["Payments", "Research"]),
    ("aud", ["idp-auditors"], "Auditor", []),
])
def test_people_sign_in_by_their_groups_and_sign_out_at_the_provider_too(page, live_server, sso, sub, groups,
                                                                          role, teams):
    sso.set_user(sub, groups=groups, username=sub)
    _sign_in(page, live_server.url, sub)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("whoami")).to_have_text(f"{sub} {role}")
    assert _teams(sub) == teams
    page.goto(f"{live_server.url}/teams/")
    for name in teams:
        expect(page.get_by_role("main")).to_contain_text(name)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(re.escape(f"{sso.url}/oauth2/end_session?")))  # the provider's own page
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_a_group_change_moves_the_person_and_unmapped_groups_are_refused(page, live_server, sso):
    sso.set_user("mover", groups=["idp-devs", "idp-payments"], username="mover")
    _sign_in(page, live_server.url, "mover")
    expect(page.get_by_test_id("whoami")).to_have_text("mover Developer")
    assert _teams("mover") == ["Payments"]
    page.context.clear_cookies()
    sso.set_user("mover", groups=["idp-auditors", "idp-research"], username="mover")
    _sign_in(page, live_server.url, "mover")
    expect(page.get_by_test_id("whoami")).to_have_text("mover Auditor")
    assert _teams("mover") == ["Research"]

    page.context.clear_cookies()
    sso.set_user("stranger", groups=["marketing"], username="stranger")
    _sign_in(page, live_server.url, "stranger")
    expect(page).to_have_url(f"{live_server.url}/security/sso/refused/")
    expect(page.get_by_test_id("sso-refused")).to_contain_text("none of the groups")
    expect(page.get_by_test_id("sso-groups")).to_have_text("marketing")
    assert not get_user_model().objects.filter(username="stranger").exists()


def test_a_person_disabled_at_the_provider_is_signed_out_at_the_next_check(page, live_server, sso, settings):
    sso.set_user("leaver", groups=["idp-devs"], username="leaver")
    _sign_in(page, live_server.url, "leaver")
    expect(page.get_by_test_id("whoami")).to_have_text("leaver Developer")
    settings.OIDC_SESSION_REFRESH_SECONDS = 0
    page.goto(f"{live_server.url}/teams/")
    expect(page.get_by_test_id("whoami")).to_have_text("leaver Developer")  # checked again, still accepted
    sso.revoke("leaver")
    page.goto(f"{live_server.url}/teams/")
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("alert")).to_contain_text("Test IdP no longer accepts your session")
