"""Rules evaluated on every new configuration item: findings with history, exceptions, the timeline, the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.config.base import Snapshot
from audit.selectors import resource_timeline
from audit.models import ConfigResource
from audit.recorder import snapshots_record
from portal.models import Account
from remediation import compliance, dashboard, selectors
from remediation.demo import rules_demo_seed
from remediation.models import Finding, Rule, RuleException

SG = "AWS::EC2::SecurityGroup"


def _sg(cidr: str, port: int = 22, tags=None) -> Snapshot:
    return Snapshot(SG, "sg-1", "us-east-1", {"groupId": "sg-1", "ipPermissions": [
        {"ipProtocol": "tcp", "fromPort": port, "toPort": port, "ipRanges": [{"cidrIp": cidr}], "ipv6Ranges": []}]},
        tags=tags or {"cost-center": "42"})


@pytest.fixture
def payments(people):
    rules_demo_seed()
    return Account.objects.get(account_id="111111111111")


def _record(payments, snapshot, capture):
    with capture(execute=True):  # the signal's on_commit runs the (eager) evaluation task
        snapshots_record(account=payments, resource_type=SG, snapshots=[snapshot], cause="EVENT")


def test_a_violation_its_fix_and_its_history(payments, django_capture_on_commit_callbacks):
    _record(payments, _sg("203.0.113.5/32"), django_capture_on_commit_callbacks)
    finding = Finding.objects.get(rule__name="restricted-ssh", resource_id="sg-1")
    assert finding.status == "COMPLIANT" and finding.first_seen is None
    _record(payments, _sg("0.0.0.0/0"), django_capture_on_commit_callbacks)
    finding.refresh_from_db()
    assert finding.status == "NON_COMPLIANT" and "0.0.0.0/0" in finding.annotation and finding.first_seen
    assert finding.team.slug == "payments" and finding.state_id == 2
    _record(payments, _sg("10.0.0.0/8"), django_capture_on_commit_callbacks)
    finding.refresh_from_db()
    assert finding.status == "COMPLIANT" and finding.resolved and finding.first_seen  # the fix keeps the history
    assert [c.after for c in finding.changes.order_by("time", "id")] == ["COMPLIANT", "NON_COMPLIANT", "COMPLIANT"]
    resource = ConfigResource.objects.get(resource_id="sg-1")
    compliance_entries = [e for e in resource_timeline(resource)[0] if e.kind == "compliance"
                          and e.summary.startswith("restricted-ssh")]
    assert [e.diff[0]["after"] for e in compliance_entries] == ["COMPLIANT", "NON_COMPLIANT", "COMPLIANT"]


def test_exceptions_count_as_such_until_they_expire(payments, people, django_capture_on_commit_callbacks):
    _record(payments, _sg("0.0.0.0/0"), django_capture_on_commit_callbacks)
    rule = Rule.objects.get(name="restricted-ssh")
    exception = RuleException.objects.create(rule=rule, scope="TAG", value="cost-center=42", reason="bastion",
                                             expires=timezone.now() + timedelta(days=1), created_by=people.admin)
    compliance.resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    finding = Finding.objects.get(rule=rule, resource_id="sg-1")
    assert finding.excepted_by == exception and finding.excepted
    mine = selectors.findings_visible_to(user=people.auditor).filter(rule=rule)
    assert (dashboard.totals(mine)["non_compliant"], dashboard.totals(mine)["excepted"]) == (0, 1)
    RuleException.objects.filter(pk=exception.pk).update(expires=timezone.now() - timedelta(seconds=1))
    # Expired: it stops counting at once, and the next evaluation drops it.
    assert (dashboard.totals(mine)["non_compliant"], dashboard.totals(mine)["excepted"]) == (1, 0)
    compliance.resources_evaluate(ConfigResource.objects.values_list("pk", flat=True))
    finding.refresh_from_db()
    assert finding.excepted_by is None


def test_account_level_rules_and_deleted_resources(payments, django_capture_on_commit_callbacks):
    snapshots_record(account=payments, resource_type="AWS::CloudTrail::Trail", cause="SCAN", snapshots=[Snapshot(
        "AWS::CloudTrail::Trail", "t", "us-east-1", {"name": "t", "isLogging": False, "isMultiRegionTrail": True})])
    compliance.accounts_evaluate(accounts=[payments], fetch_reports=False)
    finding = Finding.objects.get(rule__name="cloudtrail-enabled", account_id=payments.account_id)
    assert finding.status == "NON_COMPLIANT" and finding.resource_type == compliance.ACCOUNT_TYPE
    _record(payments, _sg("0.0.0.0/0"), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        snapshots_record(account=payments, resource_type=SG, snapshots=[], cause="SCAN", complete_regions={"us-east-1"})
    gone = Finding.objects.get(rule__name="restricted-ssh", resource_id="sg-1")
    assert gone.status == "NOT_APPLICABLE" and gone.annotation == "The resource was deleted" and gone.first_seen


def test_findings_api_scopes_and_filters(client, payments, people, django_capture_on_commit_callbacks):
    _record(payments, _sg("0.0.0.0/0"), django_capture_on_commit_callbacks)
    client.force_login(people.daisy)
    body = client.get("/api/findings/?status=NON_COMPLIANT&rule=restricted-ssh").json()
    assert [(f["rule"], f["resource_id"], f["status"]) for f in body["results"]] == [
        ("restricted-ssh", "sg-1", "NON_COMPLIANT")]
    assert set(body["results"][0]) >= {"id", "rule", "resource_type", "resource_id", "account_id", "status",
                                       "annotation", "since"}
    assert client.get("/api/findings/?status=BAD").json() == {"status": [
        "give one of COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, INSUFFICIENT_DATA"]}
    client.force_login(people.dan)
    assert client.get("/api/findings/").json()["count"] == 0


def test_rules_are_checked_before_they_are_stored(client, payments, people):
    client.force_login(people.admin)
    bad = client.post("/api/rules/", {"name": "ports", "kind": "MANAGED", "source": "restricted-common-ports",
                                      "parameters": {"blockedPort1": "70000"}}, content_type="application/json")
    assert bad.status_code == 400 and "blockedPort1" in bad.json()["parameters"][0]
    unknown = client.post("/api/rules/", {"name": "x", "kind": "MANAGED", "source": "no-such-rule"},
                          content_type="application/json")
    assert unknown.status_code == 400 and "no-such-rule" in unknown.json()["source"][0]
    client.force_login(people.daisy)
    assert client.post("/api/rules/", {"name": "x", "kind": "MANAGED", "source": "restricted-ssh"},
                       content_type="application/json").status_code == 403


def test_the_periodic_pass_reads_the_credential_report(payments, sandbox):
    from sandbox.testing import kit, operator_clients

    kit(payments.account_id)
    iam = operator_clients(payments.account_id)("iam")  # the account's administrator makes a user
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password="Passw0rd!Passw0rd")
    with_console = Snapshot("AWS::IAM::User", "carol", "global", {"userName": "carol", "mfaDevices": [],
                                                                   "loginProfile": None})
    snapshots_record(account=payments, resource_type="AWS::IAM::User", snapshots=[with_console], cause="SCAN")
    compliance.accounts_evaluate(accounts=[payments])
    # The recorded item says "no login profile"; the credential report knows better.
    finding = Finding.objects.get(rule__name="mfa-enabled-for-iam-console-access", resource_id="carol")
    assert finding.status == "NON_COMPLIANT", finding.annotation
