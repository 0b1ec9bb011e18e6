"""Daisy's security group is changed outside CloudFormation: her launch page shows it drifted, with the property and
both values, after she asks for a check."""

import pytest
from playwright.sync_api import expect

from sandbox.testing import operator_clients
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_group_changed_outside_shows_as_drifted_on_the_launch_page(page, live_server, live_people, sandbox):
    login(page, live_server.url, "daisy")
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("link", name="LAMP web server").click()
    page.get_by_role("link", name="Launch", exact=True).click()
    page.get_by_label("Name", exact=True).fill("drifty-web")
    page.get_by_label("Database password").fill("LongEnoughPassw0rd")
    page.get_by_test_id("launch-form").get_by_role("button", name="Launch").click()
    expect(page.get_by_test_id("launch-status").first).to_have_text("SUCCEEDED", timeout=20000)
    page.reload()  # the drift card's button shows once the launch runs

    from catalog.models import LaunchRequest

    launch = LaunchRequest.objects.get(name="drifty-web")
    admin = operator_clients(launch.account_id)  # the account's administrator changes the group by hand
    detail = admin("cloudformation").describe_stack_resource(StackName=launch.stack_id,
                                                             LogicalResourceId="WebServerSecurityGroup")
    group = detail["StackResourceDetail"]["PhysicalResourceId"]
    admin("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    expect(page.get_by_test_id("drift")).to_contain_text("Not checked yet")
    page.get_by_test_id("drift-check").click()
    expect(page.get_by_test_id("drift-status")).to_have_text("DRIFTED", timeout=20000)
    row = page.get_by_test_id("drift-difference").first
    expect(row).to_contain_text("/SecurityGroupIngress/")
    expect(row).to_contain_text("added")
    expect(row).to_contain_text('"CidrIp":"0.0.0.0/0"')
    expect(row).to_contain_text('"FromPort":"3306"')
    page.screenshot(path="/tmp/drift-launch-page.png", full_page=True)
