"""Guardrails at creation: the rules run on what a launch's template would create, before anything is created."""

import json

import pytest

from catalog.models import LaunchRequest, Product
from remediation.demo import rules_demo_seed
from remediation.models import Rule
from sandbox.testing import kit

BUCKET = """
Parameters:
  Prefix:
    Type: String
    Default: reports
Resources:
  Reports:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${Prefix}-payments"
"""


@pytest.fixture
def lamp(people):
    rules_demo_seed()
    return Product.objects.get(name="LAMP web server")


pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


@pytest.fixture
def sandbox(sandbox):
    """The sandbox, Daisy's account with the kit (its GuardrailLaunch role), as before any team launches."""
    kit("111111111111")
    return sandbox


def _launch(client, product, version, **parameters):
    body = {"product": product.pk, "version": version.pk, "name": "shop", "parameters": parameters, "tags": {}}
    return client.post("/api/launches/", data=json.dumps(body), content_type="application/json")


def test_a_launch_that_would_open_ssh_to_the_world_is_refused(client, people, lamp):
    client.force_login(people.daisy)
    v2 = lamp.versions.get(name="v2.0")
    refused = _launch(client, lamp, v2, DBPassword="s3cretPassw0rdX", SSHLocation="0.0.0.0/0")
    assert refused.status_code == 400
    [message] = refused.json()["guardrails"]
    assert message.startswith("restricted-ssh on WebServerSecurityGroup: ") and "0.0.0.0/0" in message
    assert not LaunchRequest.objects.exists()
    Rule.objects.filter(name="restricted-ssh").update(at_launch=Rule.AtLaunch.IGNORE)
    Rule.objects.filter(name="restricted-common-ports").update(enabled=False)
    assert _launch(client, lamp, v2, DBPassword="s3cretPassw0rdX", SSHLocation="0.0.0.0/0").status_code == 201


def test_secure_defaults_are_applied_and_said(client, people, lamp, sandbox):
    client.force_login(people.admin)
    version = client.post(f"/api/products/{lamp.pk}/versions/", {"name": "reports", "template": BUCKET},
                          content_type="application/json")
    assert version.status_code == 201, version.content
    version = lamp.versions.get(pk=version.json()["id"])
    client.force_login(people.daisy)
    created = _launch(client, lamp, version)
    assert created.status_code == 201, created.content
    launch = LaunchRequest.objects.get(pk=created.json()["id"])
    assert launch.status == "SUCCEEDED", launch.status_reason
    assert any("encrypt" in line.lower() for line in launch.guardrail_fixes), launch.guardrail_fixes
    assert any("public access" in line.lower() for line in launch.guardrail_fixes), launch.guardrail_fixes
    assert client.get(f"/api/launches/{launch.pk}/").json()["guardrail_fixes"] == launch.guardrail_fixes
    from portal import aws

    s3 = aws.client("s3", account_id="111111111111")
    rules = s3.get_bucket_encryption(Bucket="reports-payments")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    page = client.get(f"/catalog/launches/{launch.pk}/").content.decode()
    assert "changed the template to meet the rules" in page


def test_the_launch_page_names_the_rule_that_refused_it(client, people, lamp):
    client.force_login(people.daisy)
    v2 = lamp.versions.get(name="v2.0")
    page = client.post(f"/catalog/products/{lamp.pk}/launch/", {
        "version": v2.pk, "name": "shop", "param-DBPassword": "s3cretPassw0rdX", "param-SSHLocation": "0.0.0.0/0"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "The launch would break these rules" in text and "restricted-ssh on WebServerSecurityGroup" in text
    assert not LaunchRequest.objects.exists()


def test_an_update_is_held_to_the_rules_too(client, people, lamp, sandbox):
    client.force_login(people.daisy)
    v2 = lamp.versions.get(name="v2.0")
    created = _launch(client, lamp, v2, DBPassword="s3cretPassw0rdX")
    assert created.status_code == 201, created.content
    launch_id = created.json()["id"]
    assert LaunchRequest.objects.get(pk=launch_id).status == "SUCCEEDED"
    refused = client.patch(f"/api/launches/{launch_id}/", data=json.dumps({"parameters": {"SSHLocation": "0.0.0.0/0"}}),
                           content_type="application/json")
    assert refused.status_code == 400 and refused.json()["guardrails"][0].startswith("restricted-ssh")
    assert LaunchRequest.objects.get(pk=launch_id).status == "SUCCEEDED"
