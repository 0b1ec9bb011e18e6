"""Launch targets: the developer picks one of her team's accounts and one of its allowed regions (defaults as
before), a TARGET constraint narrows or pins them, and the launch role must be in the launch's account."""

import json

import pytest

from catalog import services
from catalog.models import Constraint, ConstraintType, LaunchRequest, LaunchStatus, Product
from portal import aws
from sandbox.testing import stacks_besides_kit
from portal import services as portal_services
from portal.models import Team

pytestmark = pytest.mark.usefixtures("commit_now")

PAYMENTS, RESEARCH, STAGING = "111111111111", "222222222222", "444444444444"
ROLE = f"arn:aws:iam::{PAYMENTS}:role/GuardrailLaunch"
SG_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Port: {Type: Number, Default: 443}
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "port ${Port}"
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 10.0.0.0/8}]
Outputs:
  GroupId: {Value: !GetAtt Group.GroupId}
"""


@pytest.fixture
def lamp(people):
    return Product.objects.get(name="LAMP web server")


@pytest.fixture
def sg(lamp, people):
    """A product quick to launch, in the LAMP's portfolio (granted to payments) with the same launch role."""
    portfolio = lamp.portfolios.get()
    product = services.product_create(user=people.admin, name="Security group", portfolios=[portfolio])
    services.version_create(user=people.admin, product=product, name="v1", template=SG_TEMPLATE)
    services.constraint_create(user=people.admin, product=product, type="LAUNCH", portfolio=portfolio,
                               definition={"role_arn": ROLE})
    return product


@pytest.fixture
def staging(people):
    """A second payments account, after payments-prod by name: the default stays payments-prod."""
    return portal_services.account_ensure(account_id=STAGING, name="payments-staging",
                                          team=Team.objects.get(slug="payments"), allowed_regions=["eu-west-1"])


@pytest.fixture
def research_granted(lamp):
    """Research is granted the same portfolio (so the LAUNCH constraint in payments' account applies to it)."""
    lamp.portfolios.get().teams.add(Team.objects.get(slug="research"))


def _launch(client, product, **fields):
    body = {"product": product.pk, "version": product.versions.first().pk, "name": "edge",
            "parameters": {"Port": "443"}, **fields}
    return client.post("/api/launches/", data=json.dumps(body), content_type="application/json")


def _constraint(client, product, type_, definition, **extra):
    return client.post(f"/api/products/{product.pk}/constraints/", content_type="application/json",
                       data=json.dumps({"type": type_, "definition": definition, **extra}))


def _form(client, product, **query):
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return client.get(f"/api/products/{product.pk}/launch-form/?version={product.versions.first().pk}{extra}")


def test_it_launches_into_the_region_daisy_picks(client, people, sg, sandbox):
    client.force_login(people.daisy)
    response = _launch(client, sg, account_id=PAYMENTS, region="eu-west-1")
    assert response.status_code == 201, response.content
    launch = client.get(f"/api/launches/{response.json()['id']}/").json()
    assert launch["status"] == "SUCCEEDED", launch["status_reason"]
    assert (launch["account_id"], launch["region"]) == (PAYMENTS, "eu-west-1")
    stacks = stacks_besides_kit(PAYMENTS, "eu-west-1")
    assert [s["StackId"] for s in stacks] == [launch["stack_id"]]
    assert not stacks_besides_kit(PAYMENTS, "us-east-1")


def test_it_keeps_the_default_when_nothing_is_picked(client, people, sg, staging):
    client.force_login(people.daisy)
    targets = _form(client, sg).json()["targets"]
    assert [a["account_id"] for a in targets["accounts"]] == [PAYMENTS, STAGING]
    assert targets["accounts"][0] == {"account_id": PAYMENTS, "name": "payments-prod", "team": "payments",
                                      "regions": ["us-east-1", "eu-west-1"], "region": "us-east-1"}
    assert (targets["account_id"], targets["region"]) == (PAYMENTS, "us-east-1")
    assert not targets["account_pinned"] and not targets["region_pinned"]
    response = _launch(client, sg)
    assert response.status_code == 201, response.content
    launch = LaunchRequest.objects.get(pk=response.json()["id"])
    assert (launch.account_id, launch.region, launch.launch_role_arn) == (PAYMENTS, "us-east-1", ROLE)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"account_id": "999999999999"}, "account_id", "999999999999 is not one of team payments' accounts."),
        ({"account_id": RESEARCH}, "account_id", f"{RESEARCH} is not one of team payments' accounts."),
        ({"account_id": "12345"}, "account_id", "An AWS account id is 12 digits."),
        ({"account_id": ["111111111111"]}, "account_id", "An AWS account id is 12 digits."),
        ({"region": "us-west-2"}, "region", "us-west-2 is not a region this product may be launched in, in "
                                            "payments-prod (111111111111): use one of us-east-1, eu-west-1."),
        ({"account_id": STAGING, "region": "us-east-1"}, "region", "use one of eu-west-1."),
        ({"region": {"name": "eu-west-1"}}, "region", "Not a valid string."),
    ],
)
def test_it_refuses_an_account_or_region_that_is_not_the_teams(client, people, sg, staging, fields, field, message):
    client.force_login(people.daisy)
    response = _launch(client, sg, **fields)
    assert response.status_code == 400, response.content
    assert message in response.json()[field][0]
    assert not LaunchRequest.objects.exists()


def test_it_refuses_dan_the_payments_account_and_admins_and_auditors_any(client, people, sg, research_granted):
    client.force_login(people.dan)  # a developer of research, granted the product too
    response = _launch(client, sg, account_id=PAYMENTS)
    assert response.status_code == 400
    assert response.json() == {"account_id": [f"{PAYMENTS} is not one of team research's accounts."]}
    client.force_login(people.admin)  # an admin launches for no team
    assert _launch(client, sg, account_id=PAYMENTS).status_code == 403
    client.force_login(people.auditor)
    assert _launch(client, sg, account_id=PAYMENTS).status_code == 403
    assert not LaunchRequest.objects.exists()


def test_it_refuses_a_launch_role_in_another_account(client, people, sg, research_granted):
    client.force_login(people.dan)  # research's account is 222222222222; the launch role is in payments'
    response = _launch(client, sg)
    assert response.status_code == 400
    message = response.json()["account_id"][0]
    assert message.startswith(f"The launch role {ROLE} is in account {PAYMENTS}, and a launch role must be in "
                              f"the account it launches into ({RESEARCH}).")
    assert "local_role_name" in message
    assert not LaunchRequest.objects.exists()


def test_it_launches_as_the_local_role_in_the_chosen_account(client, people, sg, research_granted, sandbox):
    Constraint.objects.filter(product=sg, type=ConstraintType.LAUNCH).delete()
    client.force_login(people.admin)
    assert _constraint(client, sg, "LAUNCH", {"local_role_name": "GuardrailLaunch"}).status_code == 201
    client.force_login(people.dan)
    assert _form(client, sg).json()["launch_role_arn"] == f"arn:aws:iam::{RESEARCH}:role/GuardrailLaunch"
    response = _launch(client, sg, region="us-west-2")
    assert response.status_code == 201, response.content
    launch = LaunchRequest.objects.get(pk=response.json()["id"])
    assert (launch.account_id, launch.region) == (RESEARCH, "us-west-2")
    assert launch.launch_role_arn == f"arn:aws:iam::{RESEARCH}:role/GuardrailLaunch"
    assert launch.status == LaunchStatus.SUCCEEDED, launch.status_reason


def test_an_admin_pins_account_and_region_and_developers_cannot(client, people, sg, staging):
    client.force_login(people.daisy)
    assert _constraint(client, sg, "TARGET", {"regions": ["eu-west-1"]}).status_code == 403
    client.force_login(people.admin)
    pin = {"account_ids": [PAYMENTS], "regions": ["eu-west-1"]}
    assert _constraint(client, sg, "TARGET", pin).status_code == 201
    preview = client.get(f"/catalog/products/{sg.pk}/preview/?team=payments").content.decode()
    assert f"<code>{PAYMENTS}</code> payments-prod: eu-west-1" in preview
    assert f"<code>{STAGING}</code> not offered: an admin limited Security group to account(s) {PAYMENTS}" in preview
    client.force_login(people.daisy)
    targets = _form(client, sg).json()["targets"]
    assert [(a["account_id"], a["regions"]) for a in targets["accounts"]] == [(PAYMENTS, ["eu-west-1"])]
    assert targets["account_pinned"] and targets["region_pinned"]
    refused = _launch(client, sg, account_id=STAGING)
    assert refused.status_code == 400
    assert refused.json()["account_id"] == [f"{STAGING} may not be launched into: an admin limited Security group "
                                            f"to account(s) {PAYMENTS}."]
    refused = _launch(client, sg, region="us-east-1")
    assert refused.status_code == 400 and "use one of eu-west-1" in refused.json()["region"][0]
    response = _launch(client, sg)  # the pinned account and region, without asking
    assert response.status_code == 201, response.content
    launch = LaunchRequest.objects.get(pk=response.json()["id"])
    assert (launch.account_id, launch.region) == (PAYMENTS, "eu-west-1")


def test_a_portfolio_constraint_pins_only_that_portfolios_launches(client, people, sg):
    other = services.portfolio_create(user=people.admin, name="Research lab", owner="platform",
                                      teams=[Team.objects.get(slug="research")])
    sg.portfolios.add(other)
    client.force_login(people.admin)
    response = _constraint(client, sg, "TARGET", {"regions": ["us-west-2"]}, portfolio=other.pk)
    assert response.status_code == 201, response.content
    client.force_login(people.daisy)  # payments reaches the product through its own portfolio only
    assert _form(client, sg).json()["targets"]["accounts"][0]["regions"] == ["us-east-1", "eu-west-1"]
    client.force_login(people.dan)
    assert _form(client, sg).json()["targets"]["accounts"][0]["regions"] == ["us-west-2"]


def test_it_says_why_a_team_may_launch_nowhere(client, people, sg):
    client.force_login(people.admin)
    assert _constraint(client, sg, "TARGET", {"account_ids": [RESEARCH]}).status_code == 201
    client.force_login(people.daisy)
    response = _launch(client, sg)
    assert response.status_code == 400
    assert response.json()["product"] == [f"Team payments may launch Security group in none of its accounts: an "
                                          f"admin limited Security group to account(s) {RESEARCH}."]


@pytest.mark.parametrize(
    ("type_", "definition", "fragment"),
    [
        ("TARGET", {}, "Name the accounts"),
        ("TARGET", {"account_ids": ["999999999999"]}, "knows no account 999999999999"),
        ("TARGET", {"account_ids": [111111111111]}, "not an AWS account id"),
        ("TARGET", {"regions": ["mars-north-1"]}, "unknown AWS region(s) mars-north-1"),
        ("TARGET", {"regions": "eu-west-1"}, "Name the accounts"),
        ("TARGET", {"teams": ["payments"]}, "Unknown field(s): teams"),
        ("LAUNCH", {"role_arn": ROLE, "local_role_name": "GuardrailLaunch"}, "either role_arn"),
        ("LAUNCH", {}, "either role_arn"),
        ("LAUNCH", {"local_role_name": "no spaces please"}, "local_role_name must be an IAM role name"),
    ],
)
def test_it_refuses_a_bad_target_or_launch_definition(client, people, sg, type_, definition, fragment):
    Constraint.objects.filter(product=sg, type=ConstraintType.LAUNCH).delete()
    client.force_login(people.admin)
    response = _constraint(client, sg, type_, definition)
    assert response.status_code == 400, response.content
    assert fragment in json.dumps(response.json())


def test_the_schema_documents_account_and_region(client, people):
    client.force_login(people.daisy)
    schema = client.get("/api/schema/?format=json").json()
    create = schema["components"]["schemas"]["LaunchCreateRequest"]["properties"]
    assert create["account_id"]["pattern"] == "^\\d{12}$" and "account" in create["account_id"]["description"]
    assert "region" in create["region"]["description"]
    targets = schema["components"]["schemas"]["LaunchTargets"]["properties"]
    assert {"accounts", "account_id", "region", "account_pinned", "region_pinned"} <= set(targets)
    assert "TARGET" in schema["components"]["schemas"]["TypeEnum"]["enum"]


# ---------------------------------------------------------------- the launch form in the browser (server side)

def test_the_form_offers_the_teams_accounts_and_their_regions(client, people, sg, staging):
    client.force_login(people.daisy)
    page = client.get(f"/catalog/products/{sg.pk}/launch/").content.decode()
    assert '<option value="111111111111" selected>payments-prod (111111111111)</option>' in page
    assert '<option value="444444444444" >payments-staging (444444444444)</option>' in page
    assert '<option value="us-east-1" selected>us-east-1</option>' in page
    assert '<option value="eu-west-1" >eu-west-1</option>' in page
    assert 'hx-target="#launch-region-field"' in page
    assert f"Launched as <code>{ROLE}</code>" in page and 'data-testid="role-problem"' not in page
    # htmx asks for the regions of the account chosen
    fragment = client.get(f"/catalog/products/{sg.pk}/launch/?account_id={STAGING}", headers={
        "HX-Request": "true", "HX-Target": "launch-region-field"}).content.decode()
    assert fragment.lstrip().startswith('<div class="col-md-6" id="launch-region-field"')
    assert '<option value="eu-west-1" selected>eu-west-1</option>' in fragment and "us-east-1" not in fragment
    assert f"The launch role {ROLE} is in account {PAYMENTS}" in fragment  # said before she submits


def test_the_form_names_the_field_it_refuses(client, people, sg):
    client.force_login(people.daisy)
    url = f"/catalog/products/{sg.pk}/launch/"
    post = {"name": "edge", "version": sg.versions.first().pk, "param-Port": "443"}
    page = client.post(url, {**post, "account_id": "999999999999", "region": "us-east-1"}).content.decode()
    assert "account_id: 999999999999 is not one of team payments&#x27; accounts." in page
    page = client.post(url, {**post, "account_id": PAYMENTS, "region": "us-west-2"}).content.decode()
    assert "region: us-west-2 is not a region this product may be launched in" in page
    assert not LaunchRequest.objects.exists()
    response = client.post(url, {**post, "account_id": PAYMENTS, "region": "eu-west-1"})
    launch = LaunchRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == launch.get_absolute_url()
    assert (launch.account_id, launch.region) == (PAYMENTS, "eu-west-1")


def test_the_form_warns_of_a_launch_role_in_another_account_and_shows_pins(client, people, sg, research_granted):
    client.force_login(people.dan)
    page = client.get(f"/catalog/products/{sg.pk}/launch/").content.decode()
    assert 'data-testid="role-problem"' in page and f"The launch role {ROLE} is in account {PAYMENTS}" in page
    client.force_login(people.admin)
    assert _constraint(client, sg, "TARGET", {"account_ids": [RESEARCH], "regions": ["us-west-2"]},
                       portfolio=sg.portfolios.get().pk).status_code == 201
    assert client.get(f"/catalog/products/{sg.pk}/launch/").status_code == 403  # admins launch for no team
    client.force_login(people.dan)
    page = client.get(f"/catalog/products/{sg.pk}/launch/").content.decode()
    assert page.count('<span class="badge text-bg-secondary">fixed</span>') == 2
    assert '<option value="us-west-2" selected>us-west-2</option>' in page and "us-east-1</option>" not in page
