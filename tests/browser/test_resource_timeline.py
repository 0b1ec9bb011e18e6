"""The auditor goes from Daisy's event to the configuration change it made, shown as a diff."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_the_auditor_goes_from_daisys_event_to_the_diff(page, live_server, live_people, sandbox, clock):
    from audit.recorder import account_scan
    from audit.tasks import cloudtrail_poll
    from portal.models import Account
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import as_person

    bootstrap_from_portal()
    ec2 = as_person("daisy")("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22,
                                         CidrIp="203.0.113.5/32")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                 SecurityGroupIds=[group])["Instances"][0]["InstanceId"]
    account_scan(account=Account.objects.get(account_id="111111111111"))
    clock.advance(1)  # the point-in-time picker works to the second: the change comes in a later one
    ec2.revoke_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22,
                                      CidrIp="203.0.113.5/32")
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    sandbox.flush()
    while cloudtrail_poll():  # eager tasks: each file is ingested and the recorder runs as it would in a worker
        pass

    login(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}/audit/events/?username=daisy&event_name=AuthorizeSecurityGroupIngress")
    rows = page.get_by_test_id("events").locator("tbody tr")
    expect(rows).to_have_count(2)
    rows.first.get_by_role("link", name="AuthorizeSecurityGroupIngress").click()
    expect(page.get_by_test_id("record")).to_contain_text("0.0.0.0/0")
    page.get_by_role("link", name="configuration timeline").click()
    expect(page).to_have_url(f"{live_server.url}/audit/resources/" + page.url.split("/audit/resources/")[1])
    assert "#item-2" in page.url
    change = page.locator("#item-2")
    expect(change).to_contain_text("Caused by")
    expect(change).to_contain_text("daisy")
    diff = change.get_by_test_id("diff")
    expect(diff.locator("td.before")).to_contain_text("203.0.113.5/32")
    expect(diff.locator("td.after")).to_contain_text("0.0.0.0/0")
    expect(page.get_by_test_id("relationships")).to_contain_text(instance)
    # What it looked like before the change.
    page.get_by_label("Point in time").fill(change.locator(".text-nowrap").first.inner_text().replace(" ", "T"))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("configuration-at")).to_contain_text("203.0.113.5/32")
