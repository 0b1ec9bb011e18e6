"""A launch's drift on the sandbox: asked for on the page and the API, checked periodically, each check a background
run; a security group changed outside CloudFormation shows as drifted with the property and both values, and the
owner and the admins are told once per drift."""

import json

import pytest

from catalog.models import DriftCheck, LaunchRequest, Product
from catalog.tasks import drift_check_all
from portal import aws
from portal.models import Notification
from sandbox.testing import operator_clients

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)
ACCOUNT = "111111111111"


@pytest.fixture
def launch(client, people, sandbox) -> LaunchRequest:
    lamp = Product.objects.get(name="LAMP web server")
    client.force_login(people.daisy)
    body = {"product": lamp.pk, "version": lamp.versions.get(name="v2.0").pk, "name": "shop",
            "parameters": {"DBPassword": "s3cretPassw0rdX", "SSHLocation": "10.1.0.0/16"}}
    response = client.post("/api/launches/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    launch = LaunchRequest.objects.get(pk=response.json()["id"])
    assert launch.status == "SUCCEEDED", launch.status_reason
    return launch


def _admin(service: str):
    """The account's administrator, who changes things by hand outside CloudFormation."""
    return operator_clients(ACCOUNT)(service)


def _group(launch: LaunchRequest) -> str:
    cfn = _admin("cloudformation")
    return cfn.describe_stack_resource(StackName=launch.stack_id, LogicalResourceId="WebServerSecurityGroup")[
        "StackResourceDetail"]["PhysicalResourceId"]


def _open_ssh_to_the_world(launch: LaunchRequest) -> None:
    ec2 = _admin("ec2")
    group = _group(launch)
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _drift_notes(user) -> int:
    return Notification.objects.filter(user=user, subject__contains="drifted").count()


def test_an_untouched_launch_is_in_sync(client, people, launch):
    answer = client.post(f"/api/launches/{launch.pk}/drift/")
    assert answer.status_code == 202, answer.content
    check = answer.json()
    assert (check["status"], check["stack_drift_status"], check["drifted_count"]) == ("SUCCEEDED", "IN_SYNC", 0)
    checked = {r["logical_id"]: r["status"] for r in check["resources"]}
    assert checked == {"WebServerSecurityGroup": "IN_SYNC", "WebServer": "IN_SYNC"}
    page = client.get(launch.get_absolute_url()).content.decode()
    assert 'data-testid="drift-status">IN SYNC' in page
    assert _drift_notes(people.daisy) == 0


def test_a_group_changed_outside_cloudformation_shows_as_drifted_with_both_values(client, people, launch):
    _open_ssh_to_the_world(launch)
    check = client.post(f"/api/launches/{launch.pk}/drift/").json()
    assert check["stack_drift_status"] == "DRIFTED" and check["drifted_count"] == 1
    group = next(r for r in check["resources"] if r["logical_id"] == "WebServerSecurityGroup")
    assert group["status"] == "MODIFIED" and group["physical_id"] == _group(launch)
    removed = next(d for d in group["differences"] if d["kind"] == "REMOVE")
    added = next(d for d in group["differences"] if d["kind"] == "ADD")
    assert removed["path"].startswith("/SecurityGroupIngress/") and json.loads(removed["expected"])["CidrIp"] == \
        "10.1.0.0/16" and removed["actual"] == "null"
    assert json.loads(added["actual"])["CidrIp"] == "0.0.0.0/0"
    page = client.get(launch.get_absolute_url()).content.decode()
    assert 'data-testid="drift-status">DRIFTED' in page
    assert "WebServerSecurityGroup" in page and removed["path"] in page
    assert "10.1.0.0/16" in page and "0.0.0.0/0" in page  # both values
    # the owner and the admins are told, once per drift
    assert _drift_notes(people.daisy) == 1 and _drift_notes(people.admin) == 1
    assert _drift_notes(people.dan) == 0 and _drift_notes(people.auditor) == 0
    note = Notification.objects.get(user=people.daisy, subject__contains="drifted")
    assert "10.1.0.0/16" in note.body and "0.0.0.0/0" in note.body and note.url.endswith("#drift")
    client.post(f"/api/launches/{launch.pk}/drift/")  # the same drift again: nobody is told twice
    assert _drift_notes(people.daisy) == 1 and _drift_notes(people.admin) == 1
    assert DriftCheck.objects.filter(launch=launch, status="SUCCEEDED").count() == 2
    # the auditor reads it, another team's developer does not see it, neither may ask
    client.force_login(people.auditor)
    assert client.get(f"/api/launches/{launch.pk}/drift/").json()["stack_drift_status"] == "DRIFTED"
    assert client.post(f"/api/launches/{launch.pk}/drift/").status_code == 403
    client.force_login(people.dan)
    assert client.get(f"/api/launches/{launch.pk}/drift/").status_code == 404


def test_a_new_drift_after_a_fix_is_told_again(client, people, launch):
    _open_ssh_to_the_world(launch)
    client.post(f"/api/launches/{launch.pk}/drift/")
    ec2 = _admin("ec2")
    group = _group(launch)
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    assert client.post(f"/api/launches/{launch.pk}/drift/").json()["stack_drift_status"] == "IN_SYNC"
    _open_ssh_to_the_world(launch)
    client.post(f"/api/launches/{launch.pk}/drift/")
    assert _drift_notes(people.daisy) == 2


def test_the_periodic_check_finds_a_deleted_instance_and_the_page_button_asks_again(client, people, launch):
    ec2 = _admin("ec2")
    instance = next(r["physical_id"] for r in [
        {"logical_id": d["LogicalResourceId"], "physical_id": d["PhysicalResourceId"]}
        for d in _admin("cloudformation").describe_stack_resources(
            StackName=launch.stack_id)["StackResources"]] if r["logical_id"] == "WebServer")
    ec2.terminate_instances(InstanceIds=[instance])
    assert drift_check_all() == 1
    check = DriftCheck.objects.get(launch=launch)
    assert check.requested_by is None and check.status == "SUCCEEDED"
    assert {r["logical_id"]: r["status"] for r in check.resources}["WebServer"] == "DELETED"
    page = client.get(launch.get_absolute_url()).content.decode()
    assert "Deleted outside CloudFormation." in page and 'data-testid="drift-check"' in page
    partial = client.post(f"/catalog/launches/{launch.pk}/drift/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and 'id="drift"' in partial.content.decode()
    assert DriftCheck.objects.filter(launch=launch).count() == 2
    client.force_login(people.auditor)
    assert 'data-testid="drift-check"' not in client.get(launch.get_absolute_url()).content.decode()


def test_a_launch_without_a_stack_is_refused_clearly(client, people, launch):
    LaunchRequest.objects.filter(pk=launch.pk).update(status="TERMINATED")
    answer = client.post(f"/api/launches/{launch.pk}/drift/")
    assert answer.status_code == 400 and "TERMINATED" in json.dumps(answer.json())


def test_the_recorders_page_of_the_group_links_to_the_launchs_drift(client, people, launch):
    from audit.models import ConfigResource
    from audit.tasks import recorder_scan_all

    recorder_scan_all()
    group = ConfigResource.objects.get(resource_type="AWS::EC2::SecurityGroup", resource_id=_group(launch))
    page = client.get(group.get_absolute_url()).content.decode()
    assert f'href="/catalog/launches/{launch.pk}/#drift"' in page


def test_a_check_aws_cannot_answer_waits_for_the_reconciler_then_is_given_up(people, launch, settings):
    from catalog.drift import drift_check_run

    check = DriftCheck.objects.create(launch=launch)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    aws.reset_credentials_cache()
    try:
        drift_check_run(check.pk)
        check.refresh_from_db()
        assert check.status == "PENDING" and check.attempts == 1 and check.last_error
        drift_check_run(check.pk)
        drift_check_run(check.pk)
    finally:
        aws.reset_credentials_cache()
    check.refresh_from_db()
    assert check.status == "FAILED" and "Given up after 3 attempts" in check.last_error
