"""Daisy makes a read-only API token in the browser, copies it (shown once), uses it, and revokes it."""

import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _get(url: str, token: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Token {token}",
                                                                  "Content-Type": "application/json"},
                                     data=b"{}" if method != "GET" else None)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_daisy_makes_uses_and_revokes_a_token(page, live_server, live_people):
    login(page, live_server.url, "daisy")
    page.get_by_test_id("tokens-link").click()
    form = page.get_by_test_id("token-form")
    form.get_by_label("Name").fill("")
    form.get_by_role("button", name="Make token").click()
    expect(page.get_by_test_id("errors-name")).to_be_visible()
    form.get_by_label("Name").fill("build pipeline")
    form.get_by_label("Scope").select_option("read")
    form.get_by_label("Expires after").select_option("7")
    form.get_by_role("button", name="Make token").click()

    expect(page.get_by_test_id("new-token")).to_contain_text("not shown again")
    token = page.locator("#new-token-value").input_value()
    assert len(token) >= 32
    rows = page.get_by_test_id("my-tokens")
    expect(rows).to_contain_text("build pipeline")
    expect(rows).to_contain_text("Read-only")
    expect(rows).to_contain_text("never")  # not used yet

    assert _get(f"{live_server.url}/api/me/", token) == 200
    assert _get(f"{live_server.url}/api/launches/", token, "POST") == 403  # read-only
    page.goto(f"{live_server.url}/security/tokens/")  # the page again: the token is not in it any more
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    assert token not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    rows.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token 'build pipeline' revoked")).to_be_visible()
    expect(page.get_by_test_id("my-tokens")).to_contain_text("No token.")
    assert _get(f"{live_server.url}/api/me/", token) == 401
