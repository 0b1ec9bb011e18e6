"""Adam changes a portfolio's owner and reads the change on its History tab: who, the request, before → after;
then steps to the change before it. Daisy opens the History tab of a product her team may launch."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_adam_reads_a_portfolios_change_on_its_history_tab(page, live_server, live_people):
    login(page, live_server.url, "adam")
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("link", name="Payments web platform").first.click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Owner").fill("Payments platform team")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History of Payments web platform")).to_be_visible()
    newest = page.get_by_test_id("history").locator("li").first
    expect(newest).to_contain_text("changed")
    expect(newest).to_contain_text("adam")
    expect(newest).to_contain_text("Payments platform team")
    expect(newest.get_by_test_id("request-id")).not_to_be_empty()
    newest.get_by_role("link", name="Payments web platform").click()
    expect(page.get_by_test_id("change")).to_contain_text("owner")
    page.get_by_role("link", name="Previous change").click()  # the demo's grant of the portfolio to Payments
    expect(page.get_by_test_id("change")).to_contain_text("teams")
    expect(page.get_by_test_id("change")).to_contain_text("system")
    page.get_by_role("link", name="Next change").click()
    expect(page.get_by_test_id("change")).to_contain_text("Payments platform team")


def test_daisy_opens_the_history_of_a_product_she_may_launch(page, live_server, live_people):
    login(page, live_server.url, "daisy")
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("link", name="LAMP web server").first.click()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History of LAMP web server")).to_be_visible()
    expect(page.get_by_test_id("history")).to_contain_text("created")
