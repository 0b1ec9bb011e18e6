"""Launching the demo product on the sandbox: the API, the task, the states, secrets, idempotency."""

import json
import logging
import secrets

import pytest

from catalog.models import LaunchRequest, LaunchStatus, Product
from portal import aws
from portal.models import Notification
from portal.tasks import runs_reconcile
from sandbox.testing import operator_clients, stacks_besides_kit


@pytest.fixture
def lamp(people):
    return Product.objects.get(name="LAMP web server")


pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


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
    assert states and all(s in ("terminated", "shutting-down") for s in states)
    noted = {r["type"]: r["physical_id"] for r in launch.stack_resources}
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert noted["AWS::EC2::SecurityGroup"] not in {g["GroupId"] for g in groups}
    assert launch.status_reason == "The stack is deleted" and launch.kept_resources == []


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
    stacks = stacks_besides_kit("111111111111")
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
    assert runs_reconcile() == 1
    launch.refresh_from_db()
    assert launch.status == LaunchStatus.SUCCEEDED
    stacks = stacks_besides_kit("111111111111")
    assert len(stacks) == 1  # the same ClientRequestToken: no second stack


def test_the_reconciler_hands_a_stuck_launch_out_once_per_interval(people, lamp, sandbox, client, broker):
    from django.utils import timezone

    client.force_login(people.daisy)
    launch = LaunchRequest.objects.get(pk=_launch(client, lamp, name="web3").json()["id"])
    LaunchRequest.objects.filter(pk=launch.pk).update(status=LaunchStatus.IN_PROGRESS,
                                                      updated=timezone.now() - timezone.timedelta(minutes=10))
    with broker.holding():  # the watch it sends waits in the broker (CloudFormation still working on it)
        assert runs_reconcile() == 1 and broker.taken() == [("catalog.tasks.launch_watch", launch.pk)]
        assert runs_reconcile() == 0 and broker.taken() == []  # not again a minute later: once per interval


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


SG_TEMPLATE = """
Parameters:
  Port: {Type: String, Default: "443", AllowedValues: ["80", "443"]}
  Token: {Type: String, NoEcho: true, MinLength: 8, Description: An API token the group is tagged with}
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "HTTPS or HTTP on ${Port}"
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 10.0.0.0/8}]
      Tags: [{Key: token-set, Value: !If [HasToken, "yes", "no"]}]
Conditions:
  HasToken: !Not [!Equals [!Ref Token, ""]]
Outputs:
  GroupName: {Value: !Ref Group}
"""


@pytest.fixture
def sg_product(lamp, people):
    """A product moto can update (moto cannot describe an updated stack whose outputs read an instance)."""
    from catalog import services

    portfolio = lamp.portfolios.get()
    product = services.product_create(user=people.admin, name="Security group", portfolios=[portfolio])
    for name in ("v1", "v2"):
        services.version_create(user=people.admin, product=product, name=name,
                                template=SG_TEMPLATE + ("" if name == "v1" else "# v2\n"))
    services.constraint_create(user=people.admin, product=product, type="LAUNCH", portfolio=portfolio,
                               definition={"role_arn": "arn:aws:iam::111111111111:role/GuardrailLaunch"})
    return product


def _launch_sg(client, product, version="v1"):
    body = {"product": product.pk, "version": product.versions.get(name=version).pk, "name": "edge",
            "parameters": {"Port": "443", "Token": "tok-123456789"}}
    return client.post("/api/launches/", data=json.dumps(body), content_type="application/json")


def _patch(client, launch_id, body):
    return client.patch(f"/api/launches/{launch_id}/", data=json.dumps(body), content_type="application/json")


def test_it_updates_values_and_keeps_the_noecho_one(client, people, sg_product, sandbox):
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    response = _patch(client, launch_id, {"parameters": {"Port": "80"}})
    assert response.status_code == 202, response.content
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason
    assert launch.parameters == {"Port": "80"} and launch.pending_update is None
    stack = aws.client("cloudformation", account_id="111111111111").describe_stacks(
        StackName=launch.stack_id)["Stacks"][0]
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in stack["Parameters"]}
    assert values["Port"] == "80"
    # masked as AWS does; the update's success proves the old value was passed again (Token has no Default:
    # without a value CloudFormation refuses "Parameters: [Token] must have values")
    assert values["Token"] == "****"
    assert [t.new_status for t in launch.transitions.all()][-2:] == ["IN_PROGRESS", "SUCCEEDED"]


def test_it_updates_to_another_version(client, people, sg_product, sandbox):
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    v2 = sg_product.versions.get(name="v2")
    response = _patch(client, launch_id, {"version": v2.pk})
    assert response.status_code == 202, response.content
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.version == v2, launch.status_reason
    assert launch.transitions.last().reason == "Updated to v2"


def test_it_changes_the_instance_type_of_a_running_launch(client, people, lamp, sandbox):
    client.force_login(people.daisy)
    launch_id = _launch(client, lamp).json()["id"]
    cfn = operator_clients("111111111111")("cloudformation")
    stack_id = LaunchRequest.objects.get(pk=launch_id).stack_id
    server = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for r in cfn.describe_stack_resources(StackName=stack_id)["StackResources"]}
    response = _patch(client, launch_id, {"parameters": {"InstanceType": "t3.medium"}})
    assert response.status_code == 202
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.SUCCEEDED and launch.pending_update is None, launch.status_reason
    assert launch.parameters["InstanceType"] == "t3.medium"
    # CloudFormation changes an instance's type in place (Update requires: Some interruptions): the same instance
    ec2 = operator_clients("111111111111")("ec2")
    [instance] = ec2.describe_instances(InstanceIds=[server["WebServer"]])["Reservations"][0]["Instances"]
    assert instance["InstanceType"] == "t3.medium" and instance["State"]["Name"] == "running"


@pytest.mark.parametrize(("who", "body", "code"), [
    ("daisy", {"parameters": {"Environment": "staging"}}, 400),
    ("daisy", {"parameters": {"InstanceType": "m5.large"}}, 400),
    ("daisy", {"version": 999999}, 400),
    ("dan", {"parameters": {"InstanceType": "t3.medium"}}, 404),
    ("auditor", {"parameters": {"InstanceType": "t3.medium"}}, 403),
])
def test_it_refuses_bad_updates_and_changes_nothing(client, people, lamp, sandbox, who, body, code):
    client.force_login(people.daisy)
    launch_id = _launch(client, lamp).json()["id"]
    client.force_login(getattr(people, who))
    assert _patch(client, launch_id, body).status_code == code
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.SUCCEEDED and launch.parameters["InstanceType"] == "t3.small"


def test_it_asks_again_for_noecho_values_it_can_no_longer_decrypt(client, people, sg_product, sandbox, settings):
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    settings.SECRET_KEY = "a-new-secret-key"
    client.force_login(people.daisy)  # sessions are signed with the old key too
    response = _patch(client, launch_id, {"parameters": {"Port": "80"}})
    assert response.status_code == 400 and "Token" in json.dumps(response.json())
    response = _patch(client, launch_id, {"parameters": {"Port": "80", "Token": "new-token-123"}})
    assert response.status_code == 202
    assert LaunchRequest.objects.get(pk=launch_id).status == LaunchStatus.SUCCEEDED


def test_it_previews_then_applies_an_update_from_the_page(client, people, sg_product, sandbox):
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    page = client.get(f"/catalog/launches/{launch_id}/update/").content.decode()
    assert 'value="443"' in page or ">443<" in page
    assert "tok-123456789" not in page
    preview = client.post(f"/catalog/launches/{launch_id}/update/", {"action": "preview", "param-Port": "80"})
    assert preview.status_code == 200
    assert 'data-testid="preview"' in preview.content.decode()
    assert LaunchRequest.objects.get(pk=launch_id).parameters == {"Port": "443"}  # a preview changes nothing
    applied = client.post(f"/catalog/launches/{launch_id}/update/", {"action": "apply", "param-Port": "80"})
    assert applied.status_code == 302
    assert LaunchRequest.objects.get(pk=launch_id).parameters == {"Port": "80"}


def test_it_shows_update_errors_beside_the_field(client, people, sg_product, sandbox):
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    response = client.post(f"/catalog/launches/{launch_id}/update/", {"action": "apply", "param-Port": "22"})
    assert response.status_code == 200 and "must be one of" in response.content.decode()


def test_it_tells_the_notification_constraints_sns_topic(client, people, lamp, sandbox):
    from catalog import services

    admin = operator_clients("111111111111")  # the team's topic, subscribed by someone in the account
    sns, sqs = admin("sns"), admin("sqs")
    topic = sns.create_topic(Name="payments-launches")["TopicArn"]
    queue = sqs.create_queue(QueueName="launch-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps({  # SNS delivers only where allowed
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    services.constraint_create(user=people.admin, product=lamp, type="NOTIFICATION",
                               definition={"sns_topic_arns": [topic]}, portfolio=lamp.portfolios.get())
    client.force_login(people.daisy)
    _launch(client, lamp)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    assert any(b.get("Subject") == "Launch shop succeeded" for b in bodies), bodies
    assert all("s3cretPassw0rdX" not in m["Body"] for m in messages)


def test_it_draws_the_newest_version_on_the_product_page(client, people, lamp):
    client.force_login(people.daisy)
    html = client.get(f"/catalog/products/{lamp.pk}/").content.decode()
    assert 'data-testid="diagram"' in html and "WebServerSecurityGroup" in html


def _aged(launch_id: int) -> None:
    from django.utils import timezone

    LaunchRequest.objects.filter(pk=launch_id).update(updated=timezone.now() - timezone.timedelta(minutes=10))


def test_the_reconciler_asks_again_for_a_delete_whose_message_was_lost(client, people, lamp, sandbox, broker):
    client.force_login(people.daisy)
    launch_id = _launch(client, lamp).json()["id"]
    with broker.holding():  # the broker loses the message
        assert client.delete(f"/api/launches/{launch_id}/").status_code == 202
        assert broker.taken() == [("catalog.tasks.launch_terminate", launch_id)]
    assert LaunchRequest.objects.get(pk=launch_id).status == LaunchStatus.TERMINATING
    _aged(launch_id)
    assert runs_reconcile() == 1
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.TERMINATED, launch.status_reason


def test_the_reconciler_runs_an_update_whose_message_was_lost(client, people, sg_product, sandbox, broker):
    client.force_login(people.daisy)
    launch_id = _launch_sg(client, sg_product).json()["id"]
    with broker.holding():  # the broker loses the message
        assert _patch(client, launch_id, {"parameters": {"Port": "80"}}).status_code == 202
        assert broker.taken() == [("catalog.tasks.launch_update_run", launch_id)]
    launch = LaunchRequest.objects.get(pk=launch_id)
    assert launch.status == LaunchStatus.IN_PROGRESS and not launch.pending_update.get("started")
    _aged(launch_id)
    assert runs_reconcile() == 1
    launch.refresh_from_db()
    assert launch.status == LaunchStatus.SUCCEEDED and launch.parameters == {"Port": "80"}, launch.status_reason
    assert launch.transitions.last().reason.startswith("Updated to")
