"""A launch tells CloudFormation's truth: what a DeletionPolicy keeps stays (listed as kept, deleted by nothing),
a failed create is a rollback naming the resource, its reason and what to do (issue 20)."""

import json
from pathlib import Path

import pytest

from catalog import services
from catalog.models import LaunchRequest, LaunchStatus, Product
from portal import aws

ACCOUNT = "111111111111"
LAMP = (Path(__file__).resolve().parents[1] / "demo" / "lamp-v2.yaml").read_text()

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


def _product(people, name: str, template: str) -> Product:
    lamp = Product.objects.get(name="LAMP web server")
    portfolio = lamp.portfolios.get()
    product = services.product_create(user=people.admin, name=name, portfolios=[portfolio])
    services.version_create(user=people.admin, product=product, name="v1", template=template)
    services.constraint_create(user=people.admin, product=product, type="LAUNCH", portfolio=portfolio,
                               definition={"role_arn": f"arn:aws:iam::{ACCOUNT}:role/GuardrailLaunch"})
    return product


def _launch(client, people, product: Product) -> LaunchRequest:
    client.force_login(people.daisy)
    response = client.post("/api/launches/", content_type="application/json", data=json.dumps(
        {"product": product.pk, "version": product.versions.get().pk, "name": "web",
         "parameters": {"DBPassword": "s3cretPassw0rdX"}}))
    assert response.status_code == 201, response.content
    return LaunchRequest.objects.get(pk=response.json()["id"])


def test_a_retained_security_group_stays_listed_as_kept_while_the_instance_goes(client, people, sandbox):
    template = LAMP.replace("    Type: AWS::EC2::SecurityGroup\n",
                            "    Type: AWS::EC2::SecurityGroup\n    DeletionPolicy: Retain\n")
    launch = _launch(client, people, _product(people, "Kept group", template))
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason
    assert client.delete(f"/api/launches/{launch.pk}/").status_code == 202
    launch.refresh_from_db()
    assert launch.status == LaunchStatus.TERMINATED, launch.status_reason
    kept = launch.kept_resources
    assert [(k["logical_id"], k["type"]) for k in kept] == [("WebServerSecurityGroup", "AWS::EC2::SecurityGroup")]
    group = kept[0]["physical_id"]
    assert group.startswith("sg-") and group in launch.status_reason
    ec2 = aws.client("ec2", account_id=ACCOUNT)
    assert ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]  # nothing deleted it
    instance = next(r["physical_id"] for r in launch.stack_resources if r["type"] == "AWS::EC2::Instance")
    state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "terminated"
    page = client.get(f"/catalog/launches/{launch.pk}/").content.decode()
    assert "Kept in the account" in page and group in page


def test_a_create_cloudformation_fails_ends_failed_rolled_back_with_the_resources_reason(client, people, sandbox):
    template = LAMP.replace("ami-0c02fb55956c7d316", "ami-0000000000000dead")
    launch = _launch(client, people, _product(people, "No such image", template))
    assert launch.status == LaunchStatus.FAILED
    assert launch.status_reason.startswith(
        "WebServer (AWS::EC2::Instance) CREATE_FAILED: The image id '[ami-0000000000000dead]' does not exist")
    assert "The stack ended ROLLBACK_COMPLETE. Rolled back: CloudFormation removed what it had created." \
        in launch.status_reason
    cfn = aws.client("cloudformation", account_id=ACCOUNT)
    assert cfn.describe_stacks(StackName=launch.stack_id)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    page = client.get(f"/catalog/launches/{launch.pk}/").content.decode()
    assert "Rolled back" in page and "does not exist" in page and "CREATE_FAILED" in page


def test_the_page_shows_resources_coming_up_one_by_one(client, people, sandbox, monkeypatch):
    """With time per resource (make run's setting) the page's bar and rows follow the stack's own events."""
    import time

    from catalog.provisioning import launches as machine
    from sandbox import cfn_lifecycle

    watches, send = [], machine.queue.send

    def send_but_watch(task, *args, **kwargs):  # the eager watch would not wait: this test watches instead
        if task == machine.WATCH:
            watches.append(task)
            return True
        return send(task, *args, **kwargs)

    monkeypatch.setattr(machine.queue, "send", send_but_watch)
    cfn_lifecycle.configure(0.4)
    try:
        launch = _launch(client, people, _product(people, "Slow", LAMP))
        launch.refresh_from_db()
        assert launch.status == LaunchStatus.IN_PROGRESS and launch.stack_id and machine.WATCH in watches
        seen, deadline = set(), time.monotonic() + 20
        while launch.status == LaunchStatus.IN_PROGRESS:
            assert time.monotonic() < deadline
            page = client.get(f"/catalog/launches/{launch.pk}/", headers={"HX-Request": "true"})
            text = page.content.decode()
            # a read AWS did not answer shows no figure (the next poll does): counted, not fatal
            seen.add(next((v for v in ("0%", "50%", "100%") if f">{v}</div>" in text), "unanswered"))
            machine.launch_watch(launch.pk)
            launch.refresh_from_db()
            time.sleep(0.1)
    finally:
        cfn_lifecycle.configure(0)
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason
    assert {"0%", "50%"} <= seen  # the security group complete, the instance still coming
