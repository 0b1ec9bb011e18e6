"""An admin edits a signature, runs its tests, stages it, then promotes it."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

STOP = {"eventSource": "iam.amazonaws.com", "eventName": "DeactivateMFADevice"}
ENABLE = {"eventSource": "iam.amazonaws.com", "eventName": "EnableMFADevice"}


def test_an_admin_edits_tests_stages_and_promotes_a_signature(page, live_server, live_people):
    from triage.builtin import builtin_seed

    builtin_seed()
    login(page, live_server.url, "adam")
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_role("link", name="Signatures").click()
    page.get_by_test_id("signatures").get_by_role("link", name="mfa-disabled").click()
    page.get_by_role("link", name="Edit").click()
    tests = page.get_by_label("Tests")
    tests.fill(json.dumps({"positive": [STOP], "negative": [STOP]}))  # a negative that matches: wrong
    page.get_by_role("button", name="Run the tests").click()
    expect(page.get_by_test_id("test-results")).to_contain_text("Some examples fail")
    expect(page.get_by_test_id("test-results")).to_contain_text("negative #1")
    tests.fill(json.dumps({"positive": [STOP], "negative": [ENABLE]}))
    page.get_by_role("button", name="Run the tests").click()
    expect(page.get_by_test_id("test-results")).to_contain_text("All 2 examples pass")
    page.get_by_label("Status").select_option("STAGING")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("signature-status")).to_contain_text("Staging")
    expect(page.get_by_text("version 2", exact=True)).to_be_visible()
    expect(page.get_by_test_id("staging-stats")).to_contain_text("0 hits by 0 identities; nobody was alerted")
    page.get_by_role("button", name="Run the tests").click()
    expect(page.get_by_test_id("test-results")).to_contain_text("All 2 examples pass")
    page.get_by_role("button", name="Promote").click()
    expect(page.get_by_test_id("signature-status")).to_have_text("Active")
    expect(page.get_by_text("mfa-disabled is now active (version 3)")).to_be_visible()
