"""Daisy launches the LAMP product, watches it come up, gets told, and terminates it."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_it_lets_daisy_launch_watch_and_terminate(page, live_server, live_people, sandbox):
    login(page, live_server.url, "daisy")
    page.get_by_role("link", name="Catalog", exact=True).click()
    page.get_by_role("link", name="LAMP web server").click()
    page.get_by_role("link", name="Launch", exact=True).click()

    form = page.get_by_test_id("launch-form")
    expect(page.get_by_test_id("field-Environment").locator("input")).to_have_value("production")
    expect(page.get_by_test_id("field-InstanceType").locator("option")).to_have_count(3)
    page.get_by_label("Name", exact=True).fill("checkout-web")
    page.get_by_label("Database password").fill("short")
    # The browser checks the same rules first: the form does not submit.
    form.get_by_role("button", name="Launch").click()
    assert page.evaluate("document.querySelector('#param-DBPassword').validity.valid") is False
    page.get_by_label("Database password").fill("LongEnoughPassw0rd")
    page.get_by_label("Instance type").select_option("t3.small")
    form.get_by_role("button", name="Launch").click()

    expect(page.get_by_role("heading", name="checkout-web")).to_be_visible()
    expect(page.get_by_test_id("launch-status").first).to_have_text("SUCCEEDED", timeout=20000)
    expect(page.get_by_test_id("progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("outputs")).to_contain_text("WebsiteURL")
    expect(page.get_by_text("WebServerSecurityGroup").first).to_be_visible()
    expect(page.get_by_text("LongEnoughPassw0rd")).to_have_count(0)

    page.get_by_test_id("notifications").click()
    expect(page.get_by_text("Launch checkout-web succeeded")).to_be_visible()

    page.goto(f"{live_server.url}/catalog/launches/")
    page.get_by_role("link", name="checkout-web").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Terminate").click()
    expect(page.get_by_test_id("launch-status").first).to_have_text("TERMINATED", timeout=20000)
