"""OpenID Connect single sign-on (issue 21 points 1-3) against a real provider process (oidc-provider-mock):
groups map to a role and teams at every sign-in, unmapped people are refused and get no account, every sign-in and
refusal is in the audit log; SSO is off unless OIDC_ISSUER_URL is set; LOCAL_PASSWORDS off keeps superusers only."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils.html import escape

from portal.models import Team
from portal.roles import Role, roles_of
from security import oidc, sso_session
from security.models import AuditEntry, GroupMapping, SsoIdentity


@pytest.fixture
def sso(oidc_provider, settings, people):
    settings.OIDC_ISSUER_URL = oidc_provider.url
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "guardrail", "not-a-real-secret"
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "security.oidc.SsoBackend"]
    oidc.forget_discovery()
    GroupMapping.objects.create(idp_group="gr-admins", role=Role.ADMIN)
    GroupMapping.objects.create(idp_group="gr-devs", role=Role.DEVELOPER)
    GroupMapping.objects.create(idp_group="gr-auditors", role=Role.AUDITOR)
    GroupMapping.objects.create(idp_group="gr-payments", team=Team.objects.get(slug="payments"))
    GroupMapping.objects.create(idp_group="gr-research", team=Team.objects.get(slug="research"))
    yield oidc_provider
    oidc.forget_discovery()


def _sign_in(client, provider, sub: str):
    start = client.get("/security/sso/start/")
    assert start.status_code == 302 and start["Location"].startswith(f"{provider.url}/oauth2/authorize?")
    assert "nonce=" in start["Location"]
    authorized = requests.post(start["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    assert authorized.status_code == 302, authorized.text[:500]
    back = urlsplit(authorized.headers["Location"])
    assert back.path == "/security/sso/callback/"
    return client.get(f"{back.path}?{back.query}")


def _team_names(user) -> list[str]:
    return sorted(Team.objects.filter(members=user).values_list("name", flat=True))


@pytest.mark.parametrize(("groups", "role", "teams"), [
    (["gr-admins", "gr-devs", "gr-payments"], Role.ADMIN, ["Payments"]),  # the highest role wins
    (["gr-devs", "gr-payments", "gr-research", "other"], Role.DEVELOPER, ["Payments", "Research"]),
    (["gr-auditors"], Role.AUDITOR, []),
])
def test_a_person_signs_in_with_the_role_and_teams_of_their_groups(client, sso, groups, role, teams):
    sso.set_user("sub-" + role.value.lower(), groups=groups, username=f"sso-{role.value.lower()}")
    response = _sign_in(client, sso, "sub-" + role.value.lower())
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username=f"sso-{role.value.lower()}")
    assert roles_of(user) == {role} and _team_names(user) == teams
    assert not user.has_usable_password() and user.is_staff == (role == Role.ADMIN)
    assert SsoIdentity.objects.get(user=user).subject == "sub-" + role.value.lower()
    assert client.get("/").context["user"] == user
    entry = AuditEntry.objects.get(kind="LOGIN_SSO", user=user)
    assert "Test IdP" in entry.summary and f"role {role.value}" in entry.summary
    assert not AuditEntry.objects.filter(kind="LOGIN", user=user).exists()


def test_a_group_change_at_the_provider_moves_the_person_at_the_next_sign_in(client, sso):
    sso.set_user("sub-mover", groups=["gr-devs", "gr-payments"], username="mover")
    _sign_in(client, sso, "sub-mover")
    user = get_user_model().objects.get(username="mover")
    assert roles_of(user) == {Role.DEVELOPER} and _team_names(user) == ["Payments"]
    client.post("/logout/")
    sso.set_user("sub-mover", groups=["gr-auditors", "gr-research"], username="mover")
    assert _sign_in(client, sso, "sub-mover").status_code == 302
    user = get_user_model().objects.get(username="mover")  # the same person, found by the provider's subject
    assert roles_of(user) == {Role.AUDITOR} and _team_names(user) == ["Research"]
    assert get_user_model().objects.filter(sso_identity__subject="sub-mover").count() == 1


def test_a_person_whose_groups_map_to_no_role_is_refused_and_gets_no_account(client, sso):
    before = get_user_model().objects.count()
    sso.set_user("sub-stranger", groups=["marketing", "gr-payments"], username="stranger")
    response = _sign_in(client, sso, "sub-stranger")
    assert response.status_code == 302 and response["Location"] == "/security/sso/refused/"
    page = client.get("/security/sso/refused/")
    text = page.content.decode()
    assert page.status_code == 403 and "none of the groups" in text and "marketing" in text and "Test IdP" in text
    assert get_user_model().objects.count() == before and "_auth_user_id" not in client.session
    refused = AuditEntry.objects.get(kind="SSO_REFUSED")
    assert refused.username == "stranger" and "marketing" in refused.summary and refused.status == 403


def test_a_person_removed_from_every_mapped_group_is_refused_at_the_next_sign_in(client, sso):
    sso.set_user("sub-leaver", groups=["gr-devs"], username="leaver")
    _sign_in(client, sso, "sub-leaver")
    client.post("/logout/")
    sso.set_user("sub-leaver", groups=[], username="leaver")
    assert _sign_in(client, sso, "sub-leaver")["Location"] == "/security/sso/refused/"
    assert "_auth_user_id" not in client.session
    assert "sent no groups" in client.get("/security/sso/refused/").content.decode()


def test_a_provider_name_never_takes_over_a_local_account(client, sso, people):
    sso.set_user("sub-impostor", groups=["gr-devs"], username="adam")
    _sign_in(client, sso, "sub-impostor")
    user = SsoIdentity.objects.get(subject="sub-impostor").user
    assert user.username == "adam-2" and user != people.admin
    assert roles_of(get_user_model().objects.get(pk=people.admin.pk)) == {Role.ADMIN}


def test_the_login_page_offers_single_sign_on_only_when_it_is_on(client, sso, settings):
    assert 'data-testid="sso-sign-in"' in client.get("/login/").content.decode()
    assert "Sign in with Test IdP" in client.get("/login/").content.decode()
    settings.OIDC_ENABLED, settings.OIDC_ISSUER_URL = False, ""
    assert "sso-sign-in" not in client.get("/login/").content.decode()
    for url in ("/security/sso/start/", "/security/sso/callback/", "/security/sso/refused/"):
        assert client.get(url).status_code == 404


def test_sso_is_off_by_default():
    from django.conf import settings

    assert settings.OIDC_ISSUER_URL == "" and not settings.OIDC_ENABLED and settings.LOCAL_PASSWORDS
    assert "security.oidc.SsoBackend" not in settings.AUTHENTICATION_BACKENDS


def test_with_local_passwords_off_only_superusers_sign_in_with_a_password(client, sso, settings, people):
    settings.LOCAL_PASSWORDS = False
    get_user_model().objects.create_superuser("root", "root@example.org", "root-password-1")
    refused = client.post("/login/", {"username": "daisy", "password": "guardrail-demo"})
    assert refused.status_code == 200 and "passwords are off" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.post("/login/", {"username": "root", "password": "root-password-1"}).status_code == 302


@contextmanager
def _serving(document: dict):
    """A discovery document served over HTTP on 127.0.0.1 ("{url}" in it is the server's own URL)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(document).replace("{url}", url).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def test_discovery_names_the_setting_when_the_provider_cannot_be_read(settings, oidc_provider):
    oidc.forget_discovery()
    settings.OIDC_ISSUER_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(ImproperlyConfigured, match=r"OIDC_ISSUER_URL='http://127.0.0.1:9'.*cannot be read"):
        oidc.discovery()
    oidc.forget_discovery()
    settings.OIDC_ISSUER_URL = f"{oidc_provider.url}/elsewhere"  # no discovery document there: 404
    with pytest.raises(ImproperlyConfigured, match=r"/elsewhere/.well-known/openid-configuration cannot be read"):
        oidc.discovery()
    oidc.forget_discovery()
    with _serving({"issuer": "https://someone-else.example", "authorization_endpoint": "x"}) as url:
        settings.OIDC_ISSUER_URL = url
        with pytest.raises(ImproperlyConfigured, match="names another issuer"):
            oidc.discovery()
        oidc.forget_discovery()
    with _serving({"issuer": "{url}", "authorization_endpoint": "x"}) as url:
        settings.OIDC_ISSUER_URL = url
        with pytest.raises(ImproperlyConfigured, match="has no token_endpoint, jwks_uri"):
            oidc.discovery()
        oidc.forget_discovery()
    settings.OIDC_ISSUER_URL = oidc_provider.url
    assert oidc.discovery()["token_endpoint"] == f"{oidc_provider.url}/oauth2/token"
    oidc.forget_discovery()


def test_admins_edit_the_rules_and_each_change_is_in_the_audit_log(client, people):
    client.force_login(people.admin)
    page = client.get("/security/sso/mappings/")
    assert page.status_code == 200 and 'data-testid="sso-off"' in page.content.decode()
    payments = Team.objects.get(slug="payments")
    assert client.post("/security/sso/mappings/", {"idp_group": " eng-leads ", "target": "role:Admin"}).status_code == 302
    assert client.post("/security/sso/mappings/", {"idp_group": "eng-pay", "target": f"team:{payments.pk}"}).status_code == 302
    again = client.post("/security/sso/mappings/", {"idp_group": "eng-leads", "target": "role:Admin"})
    assert again.status_code == 400 and "already maps to Admin" in again.content.decode()
    assert client.post("/security/sso/mappings/", {"idp_group": "", "target": "role:Admin"}).status_code == 400
    assert client.post("/security/sso/mappings/", {"idp_group": "x", "target": "team:99999"}).status_code == 400
    rows = {(m.idp_group, m.role, m.team_id) for m in GroupMapping.objects.all()}
    assert rows == {("eng-leads", "Admin", None), ("eng-pay", "", payments.pk)}
    listed = client.get("/security/sso/mappings/").content.decode()
    assert "eng-leads" in listed and "Team Payments" in listed
    gone = GroupMapping.objects.get(idp_group="eng-pay")
    assert client.post(f"/security/sso/mappings/{gone.pk}/delete/").status_code == 302
    assert client.post(f"/security/sso/mappings/{gone.pk}/delete/").status_code == 404
    summaries = list(AuditEntry.objects.filter(kind="MAPPING_CHANGED").order_by("id").values_list("summary", "user"))
    assert summaries == [("Added rule: group 'eng-leads' → role Admin", people.admin.pk),
                         ("Added rule: group 'eng-pay' → team Payments", people.admin.pk),
                         ("Removed rule: group 'eng-pay' → team Payments", people.admin.pk)]
    client.force_login(people.daisy)
    assert client.get("/security/sso/mappings/").status_code == 403
    assert client.post("/security/sso/mappings/", {"idp_group": "y", "target": "role:Admin"}).status_code == 403
    assert GroupMapping.objects.count() == 1


def test_the_session_is_checked_again_at_the_provider_and_ends_when_it_refuses(client, sso, settings):
    sso.set_user("sub-refresh", groups=["gr-devs", "gr-payments"], username="refresher")
    _sign_in(client, sso, "sub-refresh")
    user = get_user_model().objects.get(username="refresher")
    state = client.session["sso"]
    refresh = sso_session._fernet().decrypt(state["refresh"].encode()).decode()
    assert refresh and refresh not in str(dict(client.session.items())) and state["id_token"]
    assert client.get("/").status_code == 200  # not due yet: the provider is not asked
    settings.OIDC_SESSION_REFRESH_SECONDS = 0
    sso.set_user("sub-refresh", groups=["gr-auditors", "gr-research"], username="refresher")
    assert client.get("/").status_code == 200  # refreshed: the new groups apply without signing in again
    assert roles_of(get_user_model().objects.get(pk=user.pk)) == {Role.AUDITOR}
    assert _team_names(user) == ["Research"]
    sso.revoke("sub-refresh")  # as disabling the person at the provider does
    gone = client.get("/teams/")
    assert gone.status_code == 302 and gone["Location"] == "/login/" and "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(kind="LOGOUT", user=user).latest("id")
    assert "Test IdP no longer accepts your session" in entry.summary and refresh not in entry.summary


def test_a_refresh_whose_groups_map_to_no_role_signs_the_person_out(client, sso, settings):
    sso.set_user("sub-drop", groups=["gr-devs"], username="dropper")
    _sign_in(client, sso, "sub-drop")
    settings.OIDC_SESSION_REFRESH_SECONDS = 0
    sso.set_user("sub-drop", groups=["marketing"], username="dropper")
    assert client.get("/").status_code == 302 and "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="SSO_REFUSED", username="dropper").exists()


def test_signing_out_ends_the_session_at_the_provider_too(client, sso):
    sso.set_user("sub-out", groups=["gr-devs"], username="leaving")
    _sign_in(client, sso, "sub-out")
    id_token = client.session["sso"]["id_token"]
    assert "security/sso/logout/" in client.get("/").content.decode()  # the Log out button goes this way
    out = client.post("/security/sso/logout/")
    end_url = out.context["end_url"]
    assert out.status_code == 200 and end_url.startswith(f"{sso.url}/oauth2/end_session?")
    assert f'http-equiv="refresh" content="0;url={escape(end_url)}"' in out.content.decode()
    query = parse_qs(urlsplit(end_url).query)
    assert query["id_token_hint"] == [id_token] and query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(kind="LOGOUT", username="leaving").exists()
    confirm = requests.get(end_url, timeout=10)
    assert confirm.status_code == 200  # the provider's own sign-out page
