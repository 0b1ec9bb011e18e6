import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_it_logs_daisy_in_to_her_home_page(page, live_server, live_people):
    login(page, live_server.url, "daisy")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Welcome, Daisy")).to_be_visible()
    expect(page.get_by_test_id("whoami")).to_contain_text("daisy")
    expect(page.get_by_test_id("whoami")).to_contain_text("Developer")
    expect(page.get_by_role("link", name="Payments", exact=True)).to_be_visible()
    expect(page.get_by_text("111111111111")).to_be_visible()
    expect(page.get_by_text("222222222222")).to_have_count(0)


def test_it_sends_a_wrong_password_back_to_the_login_page(page, live_server, live_people):
    login(page, live_server.url, "daisy", password="not-her-password")
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_it_filters_accounts_as_the_auditor_types(page, live_server, live_people):
    login(page, live_server.url, "audrey")
    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.locator("#account-rows tr")).to_have_count(3)
    page.get_by_label("Filter accounts").fill("research")
    expect(page.locator("#account-rows tr")).to_have_count(1)
    expect(page.locator("#account-rows")).to_contain_text("research-dev")
    expect(page).to_have_url(f"{live_server.url}/accounts/?q=research")


def test_it_lets_adam_add_an_account_and_logs_out(page, live_server, live_people):
    login(page, live_server.url, "adam")
    page.goto(f"{live_server.url}/accounts/new/")
    page.get_by_label("Account id").fill("777777777777")
    page.get_by_label("Name", exact=True).fill("payments-sandbox")
    page.get_by_label("Team", exact=True).select_option(label="Payments")
    page.get_by_label("Allowed regions").select_option(["us-east-1", "eu-west-1"])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="payments-sandbox")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Saved payments-sandbox")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
