"""An admin edits a signature, runs its tests, stages it, then promotes it; reads flow-log detections and adds a
threat list."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

STOP = {"eventSource": "iam.amazonaws.com", "eventName": "DeactivateMFADevice"}
ENABLE = {"eventSource": "iam.amazonaws.com", "eventName": "EnableMFADevice"}


def test_an_admin_edits_tests_stages_and_promotes_a_signature(page, live_server, live_people):
    from triage.builtin_signatures import builtin_seed

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


def test_an_admin_reads_flow_log_detections_and_adds_a_threat_list(page, live_server, live_people):
    import io

    from triage import flowlog_files
    from triage.builtin_signatures import builtin_seed
    from triage.flowlogs.parse import FlowRecord, render_file
    from triage.models import FlowLogFile, ThreatList

    builtin_seed()
    ThreatList.objects.create(name="demo-blocklist", entries="198.51.100.23", entry_count=1)
    start = 1_800_000_000
    records = [FlowRecord("111111111111", "eni-1", "203.0.113.66", "10.20.1.4", 40000, 1000 + p, 6, 1, 40,
                          start, start + 30, "REJECT") for p in range(150)]
    records += [FlowRecord("111111111111", "eni-1", "198.51.100.23", "10.20.1.4", 30000 + i, 22, 6, 9, 900,
                           start + 60 + i, start + 90 + i, "ACCEPT") for i in range(60)]
    flow_file = FlowLogFile.objects.create(bucket="flows", key="AWSLogs/111111111111/vpcflowlogs/us-east-1/x.log.gz",
                                           account_id="111111111111", region="us-east-1", status="INGESTING")
    flowlog_files.file_ingest(flow_file, io.BytesIO(render_file(records)))

    login(page, live_server.url, "adam")
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_role("link", name="Flow logs").click()
    expect(page.get_by_test_id("flow-files")).to_contain_text("1 read")
    page.get_by_role("link", name="Brute force: 1").click()
    rows = page.get_by_test_id("detections").locator("tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator("summary").click()
    expect(rows.first).to_contain_text("port 22: 60 accepted, 0 rejected")
    rows.first.locator("a[href*='/triage/alerts/']").click()
    expect(page.locator("h1")).to_contain_text("SSH/RDP brute force seen in VPC flow logs")

    page.goto(f"{live_server.url}/triage/flow-logs/")
    page.get_by_role("link", name="Threat lists (1)").click()
    page.get_by_label("Name").fill("partner-feed")
    page.get_by_label("Addresses and CIDRs, one a line (# comments allowed)").fill("203.0.113.66\nnot-an-address")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("threat-list-form")).to_contain_text("line 2: 'not-an-address'")
    page.get_by_label("Addresses and CIDRs, one a line (# comments allowed)").fill("203.0.113.66\n2001:db8::/32")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("entry-count")).to_have_text("2")
    expect(page.get_by_test_id("entries")).to_contain_text("2001:db8::/32")
