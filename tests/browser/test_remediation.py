"""Adam switches a remediation policy to dry_run, runs a dry run over the last hour and reads its report."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _history():
    """sg-web was recorded closed, then opened to the world on port 22 (evaluated each time, as live)."""
    from audit.config.base import Snapshot
    from audit.models import ConfigResource
    from audit.recorder import snapshots_record
    from portal.models import Account
    from remediation.compliance import resources_evaluate

    account = Account.objects.get(account_id="111111111111")
    for cause, cidr in (("SCAN", "10.0.0.0/8"), ("EVENT", "0.0.0.0/0")):
        snapshots_record(account=account, resource_type="AWS::EC2::SecurityGroup", cause=cause, snapshots=[Snapshot(
            "AWS::EC2::SecurityGroup", "sg-web", "us-east-1", {"groupId": "sg-web", "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": cidr}],
                 "ipv6Ranges": []}]}, tags={"cost-center": "42"})])
        resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))


def test_adam_dry_runs_a_policy_over_the_last_hour_and_reads_the_report(page, live_server, live_people):
    from remediation.demo import policies_demo_seed, rules_demo_seed
    from remediation.models import ActionRun, Policy

    rules_demo_seed()
    policies_demo_seed()
    Policy.objects.update(mode="off")  # nothing ran live: the report shows what it would have done
    _history()
    login(page, live_server.url, "adam")
    page.get_by_role("link", name="Compliance", exact=True).click()
    page.get_by_role("link", name="Policies").click()
    page.get_by_test_id("policies").get_by_role("link", name="open-ssh-revoke").click()
    expect(page.get_by_test_id("mode").first).to_have_text("off")
    page.get_by_role("button", name="Dry run", exact=True).click()
    expect(page.get_by_text("open-ssh-revoke is now dry_run (version 2)")).to_be_visible()
    expect(page.get_by_test_id("versions")).to_contain_text("v2")
    expect(page.get_by_test_id("versions")).to_contain_text("mode")
    page.get_by_role("link", name="Dry-run against the past").click()
    expect(page.get_by_label("open-ssh-revoke")).to_be_checked()
    page.get_by_label("Window").select_option(label="The last hour")
    page.get_by_role("button", name="Run the dry run").click()
    expect(page.get_by_test_id("dry-run-status")).to_have_text("SUCCEEDED")
    actions = page.get_by_test_id("dry-run-actions")
    revoke = actions.locator("tr", has_text="revoke_world_ingress")
    expect(revoke).to_contain_text("sg-web")
    expect(revoke).to_contain_text("ec2:RevokeSecurityGroupIngress")
    expect(revoke).to_contain_text("0.0.0.0/0")
    expect(revoke).to_contain_text("would run")
    expect(revoke).to_contain_text("open-ssh-revoke v2")
    expect(page.get_by_test_id("differences")).to_contain_text("2 only in this dry run")
    expect(page.get_by_test_id("dry-run-compliance")).to_contain_text("restricted-ssh")
    assert not ActionRun.objects.exists()  # nothing ran: a report only
    expect(page.get_by_role("button", name="Approve and apply as a plan")).to_be_visible()
