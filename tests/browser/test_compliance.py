"""The compliance dashboard draws its trend; an admin writes a declarative rule and sees what it flags first."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _groups():
    from audit.config.base import Snapshot
    from audit.recorder import snapshots_record
    from portal.models import Account

    def sg(group_id, cidr, tags):
        return Snapshot("AWS::EC2::SecurityGroup", group_id, "us-east-1", {"groupId": group_id, "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": cidr}], "ipv6Ranges": []}]},
            tags=tags)

    snapshots_record(account=Account.objects.get(account_id="111111111111"), resource_type="AWS::EC2::SecurityGroup",
                     cause="SCAN", snapshots=[sg("sg-open", "0.0.0.0/0", {"owner": "daisy"}),
                                              sg("sg-closed", "10.0.0.0/8", {"owner": "daisy"}),
                                              sg("sg-orphan", "10.0.0.0/8", {})])


def test_the_dashboard_renders_its_trend_chart(page, live_server, live_people):
    from remediation.compliance import resources_evaluate
    from remediation.services import sample_record
    from remediation.demo import rules_demo_seed

    rules_demo_seed()
    _groups()
    from audit.models import ConfigResource

    resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    sample_record()
    sample_record()
    login(page, live_server.url, "audrey")
    page.get_by_role("link", name="Compliance", exact=True).click()
    chart = page.get_by_test_id("trend-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(2)
    expect(page.get_by_test_id("by-rule")).to_contain_text("restricted-ssh")
    expect(page.get_by_test_id("hipaa")).to_contain_text("164.312(e)(1)")
    page.get_by_test_id("by-rule").get_by_role("link", name="restricted-ssh").click()
    expect(page.get_by_test_id("findings").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("findings")).to_contain_text("sg-open")


def test_an_admin_tests_a_declarative_rule_before_saving_it(page, live_server, live_people):
    _groups()
    login(page, live_server.url, "adam")
    page.goto(f"{live_server.url}/compliance/rules/new/")
    page.get_by_label("Name").fill("groups-need-an-owner")
    page.get_by_label("Kind").select_option("DECLARATIVE")
    page.get_by_label("Definition").fill('{"resource_types": ["AWS::EC2::SecurityGroup"], "match": {"path": "tags.owner", "op": "absnt"}}')
    page.get_by_role("button", name="Test it on the current resources").click()
    expect(page.get_by_test_id("rule-test")).to_contain_text("match.op")  # the typo, located
    page.get_by_label("Definition").fill(json.dumps({
        "resource_types": ["AWS::EC2::SecurityGroup"], "match": {"path": "tags.owner", "op": "absent"},
        "annotation": "No owner tag"}))
    page.get_by_role("button", name="Test it on the current resources").click()
    result = page.get_by_test_id("rule-test")
    expect(result).to_contain_text("1 of 3 resources would be non-compliant")
    expect(result).to_contain_text("sg-orphan")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="groups-need-an-owner")).to_be_visible()
    expect(page.get_by_test_id("rule-findings")).to_contain_text("sg-orphan")
