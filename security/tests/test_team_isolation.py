"""Developers see nothing of another team's launches, events, resources, findings, actions, alerts, flow logs,
exceptions or org context — not through a list's filters, its search, a dashboard or an export either.

Dan (Research) asks every list page and API list for daisy's (Payments) objects by every filter they take. Each
Payments object carries the word "paysecret" somewhere it would be shown; no answer may contain it."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

MARK = "paysecret"
PAYMENTS, RESEARCH = "111111111111", "222222222222"
SG = "sg-paysecret"


def _group(account: str, group_id: str, name: str):
    from audit.config.base import Snapshot
    from audit.recorder import snapshots_record
    from portal.models import Account

    snapshots_record(account=Account.objects.get(account_id=account), resource_type="AWS::EC2::SecurityGroup",
                     cause="SCAN", snapshots=[Snapshot(
                         "AWS::EC2::SecurityGroup", group_id, "us-east-1",
                         {"groupId": group_id, "groupName": name, "ipPermissions": [
                             {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [{"cidrIp": "0.0.0.0/0"}],
                              "ipv6Ranges": []}]}, tags={"Name": name, "owner": f"{name}-owner"})])


def _event(account: str, event_id: str, user: str, group_id: str) -> None:
    from audit.services import records_ingest

    records_ingest([{"eventID": event_id, "eventTime": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
                     "awsRegion": "us-east-1", "recipientAccountId": account, "readOnly": False,
                     "sourceIPAddress": "203.0.113.77", "requestParameters": {"groupId": group_id},
                     "userIdentity": {"type": "IAMUser", "userName": user,
                                      "arn": f"arn:aws:iam::{account}:user/{user}"}}])


@pytest.fixture
def payments_world(people):
    """Daisy's team's objects, each marked; a few of Research's, so dan's lists are not simply empty."""
    from audit.models import ConfigResource
    from catalog.models import LaunchRequest, Product
    from portal.models import Notification, Team
    from remediation.compliance import resources_evaluate
    from remediation.demo import policies_demo_seed, rules_demo_seed
    from remediation.models import ActionRun, RuleException
    from triage.builtin_signatures import builtin_seed
    from triage.models import (
        Alarm,
        Alert,
        FlowDetection,
        FlowLogFile,
        OrgAccount,
        OrgSync,
        Principal,
        Signature,
        SignatureHit,
    )

    rules_demo_seed()
    policies_demo_seed()
    builtin_seed()
    now = timezone.now()
    payments = Team.objects.get(slug="payments")
    product = Product.objects.get(name="LAMP web server")
    LaunchRequest.objects.create(
        product=product, version=product.versions.get(name="v2.0"), name=f"{MARK}-web", owner=people.daisy,
        team=payments, account_id=PAYMENTS, region="us-east-1", status="SUCCEEDED", idempotency_key=MARK,
        launch_role_arn=f"arn:aws:iam::{PAYMENTS}:role/GuardrailLaunch", stack_id=f"arn:{MARK}-stack")
    _group(PAYMENTS, SG, f"{MARK}-sg")
    _group(RESEARCH, "sg-research", "research-sg")
    _event(PAYMENTS, f"ev-{MARK}", f"{MARK}-user", SG)
    _event(RESEARCH, "ev-research", "dan", "sg-research")
    resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    ActionRun.objects.create(policy_version=1, mode="dry_run", action="revoke_world_ingress", account_id=PAYMENTS,
                             resource_type="AWS::EC2::SecurityGroup", resource_id=SG, reason=f"{MARK} reason",
                             dedupe_key=MARK, status="DRY_RUN")
    signature = Signature.objects.get(name="mfa-disabled")
    alert = Alert.objects.create(signature=signature, fingerprint=MARK, severity="HIGH", title=f"{MARK} alert",
                                 account_id=PAYMENTS, team=payments, identity=f"{MARK}-user", resource_id=SG,
                                 event_ids=[f"ev-{MARK}"], first_seen=now, last_seen=now)
    SignatureHit.objects.create(signature=signature, version=1, event_id=f"ev-{MARK}", time=now, key=f"{MARK}-user",
                                staged=True, alert=alert)
    Signature.objects.filter(pk=signature.pk).update(staged_since=now - timedelta(days=1))
    flow_file = FlowLogFile.objects.create(bucket=f"{MARK}-flowlogs", key=f"AWSLogs/{PAYMENTS}/vpcflowlogs/{MARK}.gz",
                                           account_id=PAYMENTS, region="us-east-1", status="DONE")
    FlowDetection.objects.create(file=flow_file, kind="port_scan", source="203.0.113.66", target="10.9.9.9",
                                 account_id=PAYMENTS, region="us-east-1", first=now, last=now, count=40,
                                 evidence={"note": MARK}, fingerprint=MARK, resource_id=f"i-{MARK}", alert=alert)
    dry_run = _dry_run(people.admin)  # before the exceptions below, which would spare sg-paysecret
    for scope, value in (("RESOURCE", SG), ("ACCOUNT", PAYMENTS), ("TEAM", "payments")):
        RuleException.objects.create(scope=scope, value=value, reason=f"{MARK} {scope.lower()}",
                                     expires=now + timedelta(days=30))
    RuleException.objects.create(scope="ACCOUNT", value=RESEARCH, reason="research lab", expires=now + timedelta(days=30))
    OrgAccount.objects.create(account_id=PAYMENTS, name=f"{MARK}-prod", source="csv", synced=now)
    Principal.objects.create(account_id=PAYMENTS, arn=f"arn:aws:iam::{PAYMENTS}:user/{MARK}-admin", kind="user",
                             name=f"{MARK}-admin", team="payments", owner_email=f"{MARK}@example.com", source="csv",
                             synced=now)
    OrgSync.objects.create(source="csv", trigger="upload", status="SUCCEEDED", changes=[
        {"what": f"arn:aws:iam::{PAYMENTS}:user/{MARK}-admin", "field": "team", "before": None, "after": "payments"}])
    Alarm.objects.create(name=f"{MARK}-alarm", metric="open_alerts", threshold=0, team=payments)
    Notification.objects.create(user=people.daisy, subject=f"{MARK} notification")
    return {"dry_run": dry_run}


def _dry_run(admin) -> int:
    """Every policy and two signatures replayed over the last hour: its report names Payments' group."""
    from django.test import Client

    from remediation.models import Policy

    client, now = Client(), timezone.now()
    client.force_login(admin)
    body = {"policies": list(Policy.objects.values_list("pk", flat=True)), "signatures": ["mfa-disabled"],
            "since": (now - timedelta(hours=1)).isoformat(), "until": now.isoformat()}
    with mock.patch("django.db.transaction.on_commit", lambda func, using=None, robust=False: func()):
        dry_run = client.post("/api/dry-runs/", data=json.dumps(body), content_type="application/json").json()["id"]
    assert MARK in client.get(f"/api/dry-runs/{dry_run}/").content.decode()
    return dry_run


FILTERS = [f"account_id={PAYMENTS}", f"resource_id={SG}", "team=payments", f"q={MARK}", f"username={MARK}-user",
           f"resource_id=i-{MARK}", "signature=mfa-disabled", "rule=restricted-ssh", "status=all", "tag=owner",
           f"tag=Name={MARK}-sg", f"identity={MARK}-user", "excepted=true", "kind=port_scan", "page=1"]
PAGES = ["/", "/catalog/", "/catalog/launches/", "/notifications/", "/teams/", "/accounts/", "/audit/events/",
         "/audit/resources/", "/compliance/", "/compliance/findings/", "/compliance/rules/",
         "/compliance/rules/restricted-ssh/", "/compliance/exceptions/", "/compliance/policies/",
         "/compliance/policies/open-ssh-revoke/", "/compliance/actions/", "/compliance/dry-runs/",
         "/compliance/patterns/test/", "/triage/", "/triage/alerts/", "/triage/signatures/",
         "/triage/signatures/mfa-disabled/", "/triage/org/", "/triage/alarms/", "/triage/flow-logs/",
         "/triage/threat-lists/"]
APIS = ["/api/me/", "/api/teams/", "/api/accounts/", "/api/portfolios/", "/api/products/", "/api/launches/",
        "/api/events/", "/api/resources/", "/api/findings/", "/api/rules/", "/api/exceptions/", "/api/policies/",
        "/api/actions/", "/api/dry-runs/", "/api/alerts/", "/api/signatures/", "/api/signatures/mfa-disabled/"]
EXPORTS = ["/compliance/?format=csv", "/compliance/?format=json", "/triage/?format=csv", "/triage/?format=json",
           "/triage/?team=payments&format=json", "/compliance/?team=payments&format=json"]


def _without_echo(body: str, url: str) -> str:
    """The page may show the filter's own value back (in its form, its links): that is no leak."""
    from html import escape
    from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

    for _, value in parse_qsl(urlsplit(url).query):
        for shown in sorted({value, escape(value), quote(value), quote_plus(value), json.dumps(value)}, key=len,
                            reverse=True):
            body = body.replace(shown, "")
    return body


def _leaks(body: str, url: str) -> list[str]:
    body = _without_echo(body, url)
    found = [MARK] if MARK in body.lower() else []
    # The built-in signatures' example events are written in the demo's account ids: data about no one.
    if PAYMENTS not in url and PAYMENTS in body and "/signatures/" not in url:
        found.append(PAYMENTS)
    return found


def _sweep(client, urls: list[str], **headers) -> list[str]:
    leaks = []
    for base in urls:
        for query in ["", *FILTERS]:
            url = f"{base}{'&' if '?' in base else '?'}{query}" if query else base
            response = client.get(url, **headers)
            assert response.status_code in (200, 400), f"{url}: {response.status_code}"
            leaks += [f"{url}: {what}" for what in _leaks(response.content.decode(), url)]
    return leaks


def test_the_world_is_there_for_daisy(client, payments_world, people):
    """The sweep below means something: daisy does see her objects through the same lists."""
    client.force_login(people.daisy)
    for url in ("/catalog/launches/", f"/audit/events/?resource_id={SG}", f"/audit/resources/?q={MARK}",
                f"/compliance/findings/?resource_id={SG}", "/compliance/actions/", "/triage/alerts/",
                "/triage/flow-logs/", "/compliance/exceptions/", "/triage/org/", "/notifications/",
                f"/api/events/?resource_id={SG}", "/api/alerts/", "/api/exceptions/",
                f"/compliance/dry-runs/{payments_world['dry_run']}/", f"/api/dry-runs/{payments_world['dry_run']}/"):
        assert MARK in client.get(url).content.decode().lower(), url


def test_dan_finds_nothing_of_payments_on_any_page(client, payments_world, people):
    client.force_login(people.dan)
    assert _sweep(client, [*PAGES, f"/compliance/dry-runs/{payments_world['dry_run']}/"]) == []
    assert _sweep(client, ["/audit/events/", "/audit/resources/", "/compliance/findings/"], HTTP_HX_REQUEST="true") == []


def test_dan_finds_nothing_of_payments_through_the_api(client, payments_world, people):
    client.force_login(people.dan)
    assert _sweep(client, [*APIS, f"/api/dry-runs/{payments_world['dry_run']}/"]) == []


def test_dan_finds_nothing_of_payments_in_the_exports(client, payments_world, people):
    client.force_login(people.dan)
    assert _sweep(client, EXPORTS) == []


def test_dan_finds_nothing_of_payments_with_the_pattern_tester(client, payments_world, people):
    client.force_login(people.dan)
    pattern = json.dumps({"source": ["aws.ec2"]})
    response = client.post("/compliance/patterns/test/", {"pattern": pattern, "hours": "24"})
    assert response.status_code == 200 and _leaks(response.content.decode(), "") == []

