"""The auditor finds Daisy's AuthorizeSecurityGroupIngress by filtering on her name."""

import pytest
from playwright.sync_api import expect

from audit.services import records_ingest
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _record(event_id: str, user: str, name: str, account: str, **extra) -> dict:
    return {"eventID": event_id, "eventTime": "2026-11-28T12:00:00Z", "eventSource": "ec2.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "recipientAccountId": account,
            "userIdentity": {"type": "IAMUser", "userName": user, "accountId": account}, **extra}


def test_it_lets_the_auditor_find_daisys_ingress_change(page, live_server, live_people):
    records_ingest([
        _record("e-daisy", "daisy", "AuthorizeSecurityGroupIngress", "111111111111",
                requestParameters={"groupId": "sg-0abc", "ipPermissions": {"items": []}}),
        _record("e-dan", "dan", "RunInstances", "222222222222"),
    ])
    login(page, live_server.url, "audrey")
    page.get_by_role("link", name="Events", exact=True).click()
    expect(page.get_by_test_id("events").locator("tbody tr")).to_have_count(2)
    page.get_by_label("User").fill("daisy")
    expect(page.get_by_test_id("events").locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/audit/events/?username=daisy&event_name=&event_source=&resource_id="
                             "&account_id=&team=&region=&since=&until=&read_only=")
    page.get_by_role("link", name="AuthorizeSecurityGroupIngress").click()
    expect(page.get_by_test_id("record")).to_contain_text('"groupId": "sg-0abc"')
    expect(page.get_by_text("sg-0abc").first).to_be_visible()
