"""POST /api/accounts/{account_id}/check/ runs a connection check (admins) and answers {ok, checks[{name, ok,
detail}]}; GET shows the latest to whoever sees the account."""

import pytest
from rest_framework.test import APIClient

from sandbox.bootstrap import bootstrap_from_portal

pytestmark = pytest.mark.django_db
PAYMENTS = "111111111111"


@pytest.fixture
def api():
    return APIClient()


def test_only_admins_run_a_check_and_only_those_who_see_the_account_read_it(api, people, enforced_sandbox):
    api.force_authenticate(people.daisy)
    assert api.get(f"/api/accounts/{PAYMENTS}/check/").status_code == 404  # never checked
    assert api.post(f"/api/accounts/{PAYMENTS}/check/").status_code == 403
    api.force_authenticate(people.admin)
    ran = api.post(f"/api/accounts/{PAYMENTS}/check/")
    assert ran.status_code == 200
    body = ran.json()
    assert body["ok"] is False and body["status"] == "FAILED" and body["account_id"] == PAYMENTS
    first = body["checks"][0]  # no kit in the account yet
    assert first["name"] == "The portal can assume GuardrailPortal (reader)" and first["ok"] is False
    assert first["key"] == "assume:reader" and first["status"] == "failed"
    assert first["detail"].startswith("AccessDenied: User: ") and "sts:AssumeRole" in first["detail"]
    assert "guardrail-member-account.yaml" in first["fix"]
    assert api.post("/api/accounts/999999999999/check/").status_code == 404
    assert api.post("/api/accounts/not-an-id/check/").status_code == 404

    for user in (people.daisy, people.auditor, people.admin):
        api.force_authenticate(user)
        answer = api.get(f"/api/accounts/{PAYMENTS}/check/")
        assert answer.status_code == 200 and answer.json()["lines"][0]["detail"] == first["detail"]

    bootstrap_from_portal()  # the kit deployed: every line passes but the first log file's, still to come
    api.force_authenticate(people.admin)
    body = api.post(f"/api/accounts/{PAYMENTS}/check/").json()
    assert body["ok"] is True and body["status"] == "PASSED"
    assert [c["key"] for c in body["checks"] if c["status"] != "passed"] == ["arriving"]
    api.force_authenticate(people.dan)  # another team's developer does not see the account
    assert api.get(f"/api/accounts/{PAYMENTS}/check/").status_code == 404
    api.force_authenticate(None)
    assert api.get(f"/api/accounts/{PAYMENTS}/check/").status_code in (401, 403)
