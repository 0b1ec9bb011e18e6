"""POST /api/accounts/{account_id}/check/ starts a connection check (admins); GET shows the latest."""

import pytest
from rest_framework.test import APIClient

from onboarding.models import ConnectionCheck

pytestmark = pytest.mark.django_db
PAYMENTS = "111111111111"


@pytest.fixture
def api():
    return APIClient()


def test_only_admins_start_a_check_and_only_those_who_see_the_account_read_it(api, people, monkeypatch):
    ran = []
    monkeypatch.setattr("onboarding.services.queue.enqueue", lambda task, *args: ran.append(args))
    api.force_authenticate(people.daisy)
    assert api.get(f"/api/accounts/{PAYMENTS}/check/").status_code == 404  # never checked
    assert api.post(f"/api/accounts/{PAYMENTS}/check/").status_code == 403
    api.force_authenticate(people.admin)
    started = api.post(f"/api/accounts/{PAYMENTS}/check/")
    assert started.status_code == 202
    assert started.json()["status"] == "PENDING" and started.json()["account_id"] == PAYMENTS
    assert ran == [(started.json()["id"],)]
    assert api.post("/api/accounts/999999999999/check/").status_code == 404
    assert api.post("/api/accounts/not-an-id/check/").status_code == 404

    ConnectionCheck.objects.filter(pk=started.json()["id"]).update(status="FAILED", lines=[
        {"key": "assume:reader", "title": "t", "status": "failed", "detail": "AccessDenied: no", "fix": "deploy"}])
    for user in (people.daisy, people.auditor, people.admin):
        api.force_authenticate(user)
        answer = api.get(f"/api/accounts/{PAYMENTS}/check/")
        assert answer.status_code == 200 and answer.json()["lines"][0]["detail"] == "AccessDenied: no"
    api.force_authenticate(people.dan)  # another team's developer does not see the account
    assert api.get(f"/api/accounts/{PAYMENTS}/check/").status_code == 404
    api.force_authenticate(None)
    assert api.get(f"/api/accounts/{PAYMENTS}/check/").status_code in (401, 403)
