"""Launching the demo product on the sandbox: the API, the task, the states, secrets, idempotency."""

import json
import logging
import secrets

import pytest

from catalog.models import LaunchRequest, LaunchStatus, Product
from catalog.tasks import launches_reconcile
from portal import aws
from portal.models import Notification


@pytest.fixture
def lamp(people):
    return Product.objects.get(name="LAMP web server")


@pytest.fixture(autouse=True)
def _run_on_commit(monkeypatch):
    """Tests run inside a transaction that never commits: run on_commit work (enqueueing) at once."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def _launch(client, lamp, **overrides):
    body = {"product": lamp.pk, "version": lamp.versions.get(name="v2.0").pk, "name": "shop",
            "parameters": {"DBPassword": "s3cretPassw0rdX", "InstanceType": "t3.small"}, "tags": {"app": "shop"}}
    body.update(overrides)
    return client.post("/api/launches/", data=json.dumps(body), content_type="application/json")


def test_it_launches_the_lamp_product_for_daisy(client, people, lamp, sandbox, mailoutbox):
    client.force_login(people.daisy)
    response = _launch(client, lamp)
    assert response.status_code == 201, response.content
    launch = client.get(f"/api/launches/{response.json()['id']}/").json()
    assert launch["status"] == "SUCCEEDED", launch["status_reason"]
    assert [e["status"] for e in launch["events"]] == ["CREATED", "IN_PROGRESS", "SUCCEEDED"]
    assert launch["parameters"]["DBPassword"] == "****"
    assert launch["parameters"]["Environment"] == "production"
    assert launch["account_id"] == "111111111111" and launch["region"] == "us-east-1"
    assert launch["outputs"]["WebsiteURL"].startswith("http://")
    cfn = aws.client("cloudformation", account_id="111111111111")
    stack = cfn.describe_stacks(StackName=launch["stack_id"])["Stacks"][0]
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert tags["cost-center"] == "CC-PAY-001" and tags["app"] == "shop"
    assert tags["guardrail:owner"] == "daisy" and tags["guardrail:team"] == "payments"
    assert tags["guardrail:launch-id"] == str(launch["id"])
    assert Notification.objects.filter(user=people.daisy, subject__contains="succeeded").exists()
    assert {"daisy@example.com", "payments-oncall@example.com"} <= set(mailoutbox[0].to)


def test_it_terminates_and_leaves_nothing_behind(client, people, lamp, sandbox):
    client.force_login(people.daisy)
    launch_id = _launch(client, lamp).json()["id"]
    assert client.delete(f"/api/launches/{launch_id}/").status_code == 202
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.TERMINATED, launch.status_reason
    ec2 = aws.client("ec2", account_id="111111111111")
    states = [i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert all(s in ("terminated", "shutting-down") for s in states)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"parameters": {"DBPassword": "s3cretPassw0rdX", "InstanceType": "m5.large"}}, "parameters",
         "one of: t3.micro, t3.small, t3.medium"),
        ({"parameters": {"DBPassword": "s3cretPassw0rdX", "InstanceType": "c5.9xlarge"}}, "parameters",
         "InstanceType"),
        ({"parameters": {"DBPassword": "short"}}, "parameters", "12 to 41"),
        ({"parameters": {"DBPassword": "s3cretPassw0rdX", "SSHLocation": "10.0.0.0/16x"}}, "parameters",
         "CIDR"),
        ({"parameters": {"DBPassword": "s3cretPassw0rdX", "Environment": "development"}}, "parameters", "Locked"),
        ({"parameters": {"DBPassword": "s3cretPassw0rdX", "Nope": "1"}}, "parameters", "no such parameter"),
        ({"parameters": {}}, "parameters", "DBPassword"),
        ({"parameters": {"DBPassword": "s3cretPassw0rdX"}, "tags": {"cost-center": "CC-OTHER"}}, "tags", "Locked"),
        ({"parameters": {"DBPassword": "s3cretPassw0rdX"}, "tags": {"guardrail:owner": "x"}}, "tags", "guardrail:"),
        ({"name": "1 bad name"}, "name", "letter"),
        ({"version": 999999}, "version", "no version"),
    ],
)
def test_it_refuses_bad_input_and_creates_nothing(client, people, lamp, sandbox, overrides, field, fragment):
    client.force_login(people.daisy)
    response = _launch(client, lamp, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert fragment.lower() in json.dumps(response.json()).lower()
    assert not LaunchRequest.objects.exists()


def test_it_refuses_a_deprecated_version(client, people, lamp, sandbox):
    client.force_login(people.daisy)
    response = _launch(client, lamp, version=lamp.versions.get(name="v1.0").pk)
    assert response.status_code == 400 and "deprecated" in response.json()["version"][0]


def test_it_hides_another_teams_product_and_refuses_non_developers(client, people, lamp, sandbox):
    client.force_login(people.dan)
    assert _launch(client, lamp).status_code == 404
    client.force_login(people.auditor)
    assert _launch(client, lamp).status_code == 403
    assert not LaunchRequest.objects.exists()


def test_it_creates_one_stack_for_a_request_sent_twice(client, people, lamp, sandbox):
    client.force_login(people.daisy)
    first = _launch(client, lamp, idempotency_key="click-1")
    second = _launch(client, lamp, idempotency_key="click-1")
    assert first.json()["id"] == second.json()["id"]
    assert LaunchRequest.objects.count() == 1
    stacks = aws.client("cloudformation", account_id="111111111111").describe_stacks()["Stacks"]
    assert len(stacks) == 1


def test_it_fails_clearly_when_aws_is_unreachable(client, people, lamp, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    aws.reset_credentials_cache()
    client.force_login(people.daisy)
    launch = LaunchRequest.objects.get(pk=_launch(client, lamp).json()["id"])
    assert launch.status == LaunchStatus.FAILED
    assert "could not be reached" in launch.status_reason


def test_it_reconciles_a_launch_a_dead_worker_left_in_progress(people, lamp, sandbox, client):
    from django.utils import timezone

    client.force_login(people.daisy)
    launch = LaunchRequest.objects.get(pk=_launch(client, lamp, name="web2").json()["id"])
    # As if the worker died after claiming the launch and before CloudFormation was asked:
    LaunchRequest.objects.filter(pk=launch.pk).update(status=LaunchStatus.IN_PROGRESS, stack_id="",
                                                      updated=timezone.now() - timezone.timedelta(minutes=10))
    assert launches_reconcile() == 1
    launch.refresh_from_db()
    assert launch.status == LaunchStatus.SUCCEEDED
    stacks = aws.client("cloudformation", account_id="111111111111").describe_stacks()["Stacks"]
    assert len(stacks) == 1  # the same ClientRequestToken: no second stack


def test_it_never_stores_shows_or_logs_a_noecho_value(client, people, lamp, sandbox, caplog):
    from django.db import connection

    password = "Zz" + secrets.token_hex(12)
    caplog.set_level(logging.DEBUG)
    client.force_login(people.daisy)
    launch_id = _launch(client, lamp, parameters={"DBPassword": password}).json()["id"]
    answers = [client.get(url).content.decode() for url in
               (f"/api/launches/{launch_id}/", "/api/launches/", f"/catalog/launches/{launch_id}/")]
    assert all(password not in answer for answer in answers)
    assert password not in caplog.text
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            assert password not in repr(cursor.fetchall()), table
