"""API tokens people manage themselves (issue 21 point 4): made, named, scoped, dated and revoked in the browser,
shown once, stored hashed; read-only tokens cannot write (403); expired and revoked ones are refused (401)."""

import json
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken

from security.models import AuditEntry, TokenDetails


def _make(client, person, name="ci", scope="read", days=30):
    client.force_login(person)
    response = client.post("/security/tokens/", {"name": name, "scope": scope, "days": days})
    assert response.status_code == 200, response.content.decode()[:2000]
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    return secret, response.context["new"]


def _api(client, secret, method="get", url="/api/me/", body=None):
    client.logout()
    return getattr(client, method)(url, data=json.dumps(body or {}) if method != "get" else None,
                                   content_type="application/json", HTTP_AUTHORIZATION=f"Token {secret}")


def test_a_token_is_shown_once_and_stored_hashed(client, people):
    secret, details = _make(client, people.daisy, name="laptop")
    stored = AuthToken.objects.get(pk=details.token_id)
    assert stored.digest != secret and secret not in stored.digest and secret.startswith(stored.token_key)
    page = client.get("/security/tokens/").content.decode()
    assert secret not in page and "laptop" in page and f"{stored.token_key}…" in page
    created = AuditEntry.objects.get(kind="TOKEN_CREATED")
    assert created.user == people.daisy and "'laptop'" in created.summary and secret not in created.summary
    assert "read-only" in created.summary and "expires" in created.summary


def test_read_only_reads_and_cannot_write_read_write_can(client, people):
    read, _ = _make(client, people.admin, name="reader", scope="read")
    write, _ = _make(client, people.admin, name="writer", scope="write")
    body = {"name": "Token-made portfolio", "teams": ["payments"]}
    assert _api(client, read).status_code == 200
    refused = _api(client, read, "post", "/api/portfolios/", body)
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert _api(client, write, "post", "/api/portfolios/", body).status_code == 201
    # the token's scope adds to the role, never more: a developer's read-write token is still refused an admin write
    dev, _ = _make(client, people.daisy, name="dev-writer", scope="write")
    assert _api(client, dev, "post", "/api/portfolios/", {**body, "name": "x"}).status_code == 403


def test_expired_and_revoked_tokens_get_401(client, people):
    old, details = _make(client, people.daisy, name="old", days=7)
    AuthToken.objects.filter(pk=details.token_id).update(expiry=timezone.now() - timedelta(seconds=1))
    client.force_login(people.daisy)
    assert "expired" in client.get("/security/tokens/").content.decode()
    assert _api(client, old).status_code == 401
    live, details = _make(client, people.daisy, name="to-revoke")
    assert _api(client, live).status_code == 200
    client.force_login(people.daisy)
    assert client.post(f"/security/tokens/{details.pk}/revoke/").status_code == 302
    assert _api(client, live).status_code == 401
    assert not TokenDetails.objects.filter(pk=details.pk).exists()
    revoked = AuditEntry.objects.get(kind="TOKEN_REVOKED")
    assert revoked.user == people.daisy and "'to-revoke'" in revoked.summary and live not in revoked.summary


def test_last_used_is_noted(client, people):
    secret, details = _make(client, people.auditor, name="reports")
    assert details.last_used is None
    assert _api(client, secret, url="/api/events/").status_code == 200
    details.refresh_from_db()
    assert details.last_used and timezone.now() - details.last_used < timedelta(seconds=30)


def test_people_see_and_revoke_their_own_admins_everyones(client, people):
    _, daisys = _make(client, people.daisy, name="daisy-ci")
    _, dans = _make(client, people.dan, name="dan-ci")
    client.force_login(people.dan)
    page = client.get("/security/tokens/").content.decode()
    assert "dan-ci" in page and "daisy-ci" not in page
    assert client.post(f"/security/tokens/{daisys.pk}/revoke/").status_code == 404  # not his: not even seen
    assert TokenDetails.objects.filter(pk=daisys.pk).exists()
    client.force_login(people.auditor)
    assert "daisy-ci" not in client.get("/security/tokens/").content.decode()
    assert client.post(f"/security/tokens/{dans.pk}/revoke/").status_code == 404
    client.force_login(people.admin)
    page = client.get("/security/tokens/").content.decode()
    assert "daisy-ci" in page and "dan-ci" in page
    assert client.post(f"/security/tokens/{daisys.pk}/revoke/").status_code == 302
    assert not TokenDetails.objects.filter(pk=daisys.pk).exists()
    entry = AuditEntry.objects.get(kind="TOKEN_REVOKED")
    assert entry.user == people.admin and "of daisy" in entry.summary


def test_bad_input_names_the_field(client, people):
    client.force_login(people.daisy)
    for data, field, text in (({"name": "", "scope": "read", "days": 30}, "name", "required"),
                              ({"name": "x", "scope": "admin", "days": 30}, "scope", "valid choice"),
                              ({"name": "x", "scope": "read", "days": 9999}, "days", "valid choice"),
                              ({"name": "x" * 101, "scope": "read", "days": 30}, "name", "100")):
        response = client.post("/security/tokens/", data)
        assert response.status_code == 400
        assert text in " ".join(response.context["form"].errors[field])
    _make(client, people.daisy, name="twice")
    again = client.post("/security/tokens/", {"name": "Twice", "scope": "read", "days": 30})
    assert again.status_code == 400 and "already have a token named" in again.content.decode()
    assert AuthToken.objects.filter(user=people.daisy).count() == 1


def test_the_command_still_makes_a_read_write_token_without_end(client, people):
    out = StringIO()
    call_command("api_token", "daisy", stdout=out)
    secret = out.getvalue().strip()
    details = TokenDetails.objects.get(token__user=people.daisy)
    assert details.scope == "write" and details.token.expiry is None and details.name == "manage.py api_token"
    assert _api(client, secret).json()["username"] == "daisy"
