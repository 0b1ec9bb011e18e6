"""The audit log: sign-ins, failures (never the password), sign-outs, refusals and admins' writes; its page."""

import json
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from security.models import AuditEntry
from security.tasks import audit_log_purge


def _token(username: str) -> str:
    out = StringIO()
    call_command("api_token", username, stdout=out)
    return out.getvalue().strip()


def _columns(entry: AuditEntry) -> str:
    return " ".join(str(getattr(entry, f.attname)) for f in AuditEntry._meta.concrete_fields)


def test_it_records_sign_ins_failures_and_sign_outs_without_the_password(client, people):
    client.post("/login/", {"username": "daisy", "password": "Wr0ng-but-secret"}, REMOTE_ADDR="192.0.2.4")
    client.post("/login/", {"username": "daisy", "password": "guardrail-demo"}, REMOTE_ADDR="192.0.2.4")
    client.post("/logout/", REMOTE_ADDR="192.0.2.4")
    entries = list(AuditEntry.objects.order_by("time", "id"))
    assert [(e.kind, e.username, e.ip, e.path) for e in entries] == [
        ("LOGIN_FAILED", "daisy", "192.0.2.4", "/login/"), ("LOGIN", "daisy", "192.0.2.4", "/login/"),
        ("LOGOUT", "daisy", "192.0.2.4", "/logout/")]
    assert entries[1].user == people.daisy and entries[0].user is None
    assert all("Wr0ng-but-secret" not in _columns(e) and "guardrail-demo" not in _columns(e) for e in entries)


def test_it_records_refusals_from_views_and_the_api(client, people):
    client.force_login(people.dan)
    AuditEntry.objects.all().delete()
    assert client.get("/accounts/new/").status_code == 403
    assert client.post("/api/portfolios/", data=json.dumps({"name": "x"}), content_type="application/json",
                       HTTP_X_CSRFTOKEN="").status_code == 403
    token = _token("dan")
    client.logout()
    assert client.post("/api/rules/", data="{}", content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token}").status_code == 403
    assert client.get("/accounts/111111111111/").status_code == 302  # anonymous: a redirect, no refusal
    denied = list(AuditEntry.objects.filter(kind="DENIED").order_by("id"))
    assert [(e.username, e.method, e.path, e.status) for e in denied] == [
        ("dan", "GET", "/accounts/new/", 403), ("dan", "POST", "/api/portfolios/", 403),
        ("dan", "POST", "/api/rules/", 403)]
    assert denied[0].summary == "Refused: account-create"
    assert all(e.request_id for e in denied)  # the X-Request-ID of the request, to find its log lines
    assert token not in " ".join(_columns(e) for e in AuditEntry.objects.all())


def test_a_hidden_object_is_not_a_refusal(client, people):
    client.force_login(people.dan)
    AuditEntry.objects.all().delete()
    assert client.get("/accounts/111111111111/").status_code == 404
    assert not AuditEntry.objects.exists()


def test_it_records_every_write_an_admin_made_and_no_body(client, people):
    client.force_login(people.admin)
    body = {"name": "Audit portfolio", "description": "body-text-never-logged", "teams": ["research"]}
    response = client.post("/api/portfolios/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    portfolio = response.json()["id"]
    token = _token("adam")
    client.logout()
    assert client.patch(f"/api/portfolios/{portfolio}/", data=json.dumps({"description": "also-never-logged"}),
                        content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    client.force_login(people.admin)
    assert client.post("/accounts/new/", {"account_id": "x"}).status_code == 200  # a form with errors: still a POST
    writes = list(AuditEntry.objects.filter(kind="ADMIN_WRITE").order_by("id"))
    assert [(e.username, e.method, e.path, e.status) for e in writes] == [
        ("adam", "POST", "/api/portfolios/", 201), ("adam", "PATCH", f"/api/portfolios/{portfolio}/", 200),
        ("adam", "POST", "/accounts/new/", 200)]
    assert writes[1].summary == f"api-portfolio-detail pk={portfolio}"
    logged = " ".join(_columns(e) for e in AuditEntry.objects.all())
    assert "never-logged" not in logged and token not in logged


def test_it_leaves_out_developers_writes_and_failed_admin_writes(client, people):
    client.force_login(people.daisy)
    client.post("/api/launches/", data="{}", content_type="application/json")  # 400
    client.force_login(people.admin)
    client.post("/api/portfolios/", data="{}", content_type="application/json")  # 400
    assert not AuditEntry.objects.filter(kind="ADMIN_WRITE").exists()


def test_the_page_filters_and_pages_for_admins_and_auditors(client, people):
    AuditEntry.objects.bulk_create([AuditEntry(kind="LOGIN", username=f"user{n}", ip="192.0.2.1", path="/login/")
                                    for n in range(60)])
    AuditEntry.objects.create(kind="DENIED", username="dan", ip="192.0.2.9", method="GET", path="/accounts/new/",
                              status=403, summary="Refused: account-create")
    client.force_login(people.auditor)
    page = client.get("/security/audit-log/").content.decode()
    assert "page 1 of 2" in page and "Refused: account-create" in page
    only = client.get("/security/audit-log/?kind=DENIED&username=dan").content.decode()
    assert "/accounts/new/" in only and "user1<" not in only
    assert "192.0.2.9" in client.get("/security/audit-log/?ip=192.0.2.9").content.decode()
    assert "No entry matches" in client.get("/security/audit-log/?ip=not-an-address").content.decode()
    assert "kind: give one of" in client.get("/security/audit-log/?kind=NOPE").content.decode()
    partial = client.get("/security/audit-log/?q=account-create", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "account-create" in partial
    client.force_login(people.daisy)
    assert client.get("/security/audit-log/").status_code == 403


def test_old_entries_are_pruned_after_the_retention(people, settings):
    settings.AUDIT_LOG_RETENTION_DAYS = 30
    old = AuditEntry.objects.create(kind="LOGIN", username="old", time=timezone.now() - timedelta(days=31))
    kept = AuditEntry.objects.create(kind="LOGIN", username="new", time=timezone.now() - timedelta(days=29))
    assert audit_log_purge() == 1
    assert list(AuditEntry.objects.filter(pk__in=[old.pk, kept.pk])) == [kept]
