"""Daisy launches into a region that is not the default: the region select follows the account she picks."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_it_lets_daisy_pick_the_account_and_a_non_default_region(page, live_server, live_people, sandbox):
    from portal import services
    from portal.models import Team

    services.account_ensure(account_id="444444444444", name="payments-staging",
                            team=Team.objects.get(slug="payments"), allowed_regions=["us-west-2"])
    login(page, live_server.url, "daisy")
    page.get_by_role("link", name="Catalog", exact=True).click()
    page.get_by_role("link", name="LAMP web server").click()
    page.get_by_role("link", name="Launch", exact=True).click()

    account, region = page.get_by_label("Account", exact=True), page.get_by_label("Region", exact=True)
    expect(account).to_have_value("111111111111")
    expect(region).to_have_value("us-east-1")
    account.select_option(label="payments-staging (444444444444)")
    expect(page.get_by_label("Region", exact=True).locator("option")).to_have_text(["us-west-2"])
    account.select_option(label="payments-prod (111111111111)")
    expect(page.get_by_label("Region", exact=True).locator("option")).to_have_text(["us-east-1", "eu-west-1"])
    page.get_by_label("Region", exact=True).select_option("eu-west-1")

    page.get_by_label("Name", exact=True).fill("eu-web")
    page.get_by_label("Database password").fill("LongEnoughPassw0rd")
    page.get_by_test_id("launch-form").get_by_role("button", name="Launch").click()

    expect(page.get_by_role("heading", name="eu-web")).to_be_visible()
    expect(page.get_by_test_id("launch-status").first).to_have_text("SUCCEEDED", timeout=20000)
    expect(page.get_by_text("111111111111 eu-west-1")).to_be_visible()
