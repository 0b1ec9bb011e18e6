"""Admin → Accounts → Connect: the kit's commands with this portal's parameters, rules and bulk onboarding from
AWS Organizations; admins only (the three-user pattern)."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from onboarding import kit
from onboarding.models import ConnectionCheck, OnboardingRule
from portal.models import Account, Team
from triage.models import OrgAccount

pytestmark = pytest.mark.django_db


def _org(account_id: str, name: str, ou: str, **tags: str) -> OrgAccount:
    return OrgAccount.objects.create(account_id=account_id, name=name, ou_path=ou, tags=tags, status="ACTIVE",
                                     source="organizations", synced=timezone.now())


def test_the_commands_carry_the_external_id_principal_and_regions(settings):
    settings.AWS_EXTERNAL_ID, settings.AWS_REGIONS = "ext-42", ["eu-west-1", "us-east-1"]
    settings.AWS_PORTAL_PRINCIPAL_ARN = "arn:aws:iam::999988887777:role/guardrail-web"
    settings.AWS_KIT_TEMPLATE_URL = ""
    commands = kit.kit_commands()
    assert commands.quick_create_url == ""
    assert "ExternalId=ext-42" in commands.cli and "--region eu-west-1" in commands.cli
    assert "PortalPrincipalArn=arn:aws:iam::999988887777:role/guardrail-web" in commands.cli
    assert "PortalRoleName=guardrail-web" in commands.management_cli and "PortalUserName=" in commands.management_cli
    assert "--permission-model SERVICE_MANAGED" in commands.stackset
    assert "ParameterKey=ExternalId,ParameterValue=ext-42" in commands.stackset

    settings.AWS_KIT_TEMPLATE_URL = "https://kit-bucket.s3.amazonaws.com/guardrail/"
    quick = urlparse(kit.kit_commands().quick_create_url)
    query = parse_qs(quick.fragment.split("?", 1)[1])
    assert quick.hostname == "eu-west-1.console.aws.amazon.com"
    assert query["templateURL"] == ["https://kit-bucket.s3.amazonaws.com/guardrail/guardrail-member-account.yaml"]
    assert query["param_ExternalId"] == ["ext-42"] and query["stackName"] == ["guardrail-member-account"]


def test_only_admins_open_the_connect_page_and_download_the_kit(client, people):
    for user, expected in ((people.admin, 200), (people.daisy, 403), (people.auditor, 403)):
        client.force_login(user)
        assert client.get("/accounts/connect/").status_code == expected
        assert client.get("/accounts/connect/kit/guardrail-member-account.yaml").status_code == expected
    client.logout()
    assert client.get("/accounts/connect/").status_code == 302
    client.force_login(people.admin)
    page = client.get("/accounts/connect/").content.decode()
    assert "aws cloudformation deploy" in page and "create-stack-set" in page
    kit_file = client.get("/accounts/connect/kit/guardrail-member-account.yaml")
    assert b"AWSTemplateFormatVersion" in kit_file.content and "attachment" in kit_file["Content-Disposition"]
    assert client.get("/accounts/connect/kit/nothing.yaml").status_code == 404


def test_rules_map_an_ou_or_a_tag_to_a_team_and_bad_rules_are_named(client, people):
    client.force_login(people.admin)
    bad = client.post("/accounts/connect/rules/", {"kind": "TAG", "match": "payments", "team": "payments"})
    assert bad.status_code == 400 and "key=value" in bad.content.decode()
    assert client.post("/accounts/connect/rules/", {"kind": "OU", "match": "Root/Workloads/Dev",
                                                    "team": "research"}).status_code == 302
    assert client.post("/accounts/connect/rules/", {"kind": "TAG", "match": "team=payments",
                                                    "team": "payments"}).status_code == 302
    assert OnboardingRule.objects.count() == 2
    client.force_login(people.daisy)
    assert client.post("/accounts/connect/rules/", {"kind": "OU", "match": "Root", "team": "payments"}
                       ).status_code == 403
    assert OnboardingRule.objects.count() == 2


def test_bulk_onboarding_gives_each_account_its_rules_team_and_a_check(client, people, commit_now, monkeypatch):
    started = []
    monkeypatch.setattr("onboarding.services.queue.send", lambda task, *args: started.append((task, *args)))
    OnboardingRule.objects.create(kind="OU", match="Root/Workloads/Dev", team=Team.objects.get(slug="research"))
    OnboardingRule.objects.create(kind="TAG", match="team=payments", team=Team.objects.get(slug="payments"),
                                  position=10)
    _org("333333333333", "research-sandbox", "Root/Workloads/Dev/Labs")
    _org("444444444444", "payments-staging", "Root/Workloads/Prod", team="payments")
    _org("555555555555", "shared-logs", "Root/Security")
    _org("111111111111", "payments-prod", "Root/Workloads/Prod", team="payments")  # onboarded already (demo)

    client.force_login(people.daisy)
    assert client.post("/accounts/connect/onboard/", {"account_ids": ["333333333333"], "regions": ["us-east-1"]}
                       ).status_code == 403
    client.force_login(people.admin)
    page = client.get("/accounts/connect/").content.decode()
    assert 'data-org-account="333333333333"' in page and "Research" in page
    response = client.post("/accounts/connect/onboard/", {
        "account_ids": ["333333333333", "444444444444", "555555555555"], "regions": ["us-east-1", "eu-west-1"]},
        follow=True)
    assert response.status_code == 200
    research = Account.objects.get(account_id="333333333333")
    assert research.team.slug == "research" and research.name == "research-sandbox"
    assert research.allowed_regions == ["eu-west-1", "us-east-1"]
    assert Account.objects.get(account_id="444444444444").team.slug == "payments"
    assert not Account.objects.filter(account_id="555555555555").exists()
    assert "555555555555 not onboarded: no rule matches" in response.content.decode()
    checks = ConnectionCheck.objects.filter(account__account_id__in=["333333333333", "444444444444"])
    assert checks.count() == 2
    assert sorted(args for _, args in started) == sorted(checks.values_list("pk", flat=True))

    # the default team takes what no rule maps; nothing is onboarded twice
    client.post("/accounts/connect/onboard/", {"account_ids": ["555555555555", "333333333333"],
                                              "default_team": "platform", "regions": ["us-east-1"]})
    assert Account.objects.get(account_id="555555555555").team.slug == "platform"
    assert ConnectionCheck.objects.filter(account__account_id="333333333333").count() == 1


def test_bulk_onboarding_names_what_is_wrong(client, people):
    client.force_login(people.admin)
    response = client.post("/accounts/connect/onboard/", {"regions": ["mars-north-1"]})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Choose at least one account." in text and "mars-north-1" in text
