"""Alerts end to end through the sandbox's CloudTrail files: raised once per fingerprint, counted, staged
signatures alert nobody, thresholds, status changes with who; the API."""

import pytest

from portal.models import Notification
from remediation.models import Policy
from sandbox.testing import as_person, operator_clients
from sandbox.testing import deliver as _deliver
from triage import services
from triage.builtin_signatures import builtin_seed
from triage.models import Alert, Signature, SignatureHit

ACCOUNT = "111111111111"


pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


@pytest.fixture
def world(people, sandbox):
    from remediation.demo import policies_demo_seed, rules_demo_seed
    from sandbox.bootstrap import bootstrap_from_portal

    rules_demo_seed()
    policies_demo_seed()
    Policy.objects.update(mode="off")  # the alerts alone
    builtin_seed()
    bootstrap_from_portal()
    _deliver(sandbox)


def _stop_recorder():
    config = operator_clients(ACCOUNT)("config")  # the account's administrator
    name = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
    config.stop_configuration_recorder(ConfigurationRecorderName=name)
    config.start_configuration_recorder(ConfigurationRecorderName=name)


def test_a_stopped_recorder_raises_one_alert_that_counts(world, sandbox, people):
    _stop_recorder()
    _deliver(sandbox)
    _stop_recorder()
    _deliver(sandbox)
    alerts = Alert.objects.filter(signature__name="config-recorder-stopped")
    assert alerts.count() == 1
    alert = alerts.get()
    assert (alert.count, alert.status, alert.severity, alert.account_id) == (2, "OPEN", "HIGH", ACCOUNT)
    assert alert.team.slug == "payments" and len(alert.event_ids) == 2
    told = set(Notification.objects.filter(subject__contains="AWS Config recording stopped").values_list(
        "user__username", flat=True))
    assert {"adam", "daisy"} <= told and "dan" not in told  # routed by team
    # Matching the same events again changes nothing (a hit is recorded once).
    assert services.events_match(alert.event_ids) == []
    assert Alert.objects.get(pk=alert.pk).count == 2


def test_a_staged_signature_counts_hits_and_alerts_nobody(world, sandbox, people):
    services.signature_save(signature=Signature.objects.get(name="config-recorder-stopped"), status="STAGING")
    _stop_recorder()
    _deliver(sandbox)
    signature = Signature.objects.get(name="config-recorder-stopped")
    assert not Alert.objects.filter(signature=signature).exists()
    assert services.staging_stats(signature)["hits"] == 1
    promoted = services.signature_promote(signature=signature, user=people.admin)
    assert promoted.status == "ACTIVE" and promoted.version == signature.version + 1


def test_a_threshold_alerts_only_past_the_count(world, sandbox, people):
    services.signature_save(user=people.admin, name="recorder-flapping", title="Recorder stopped three times",
                            pattern={"source": ["aws.config"], "detail": {"eventName": ["StopConfigurationRecorder"]}},
                            conditions={"threshold": {"count": 3, "minutes": 10, "by": "identity"}},
                            status="ACTIVE", severity="HIGH",
                            tests={"positive": [{"eventSource": "config.amazonaws.com",
                                                 "eventName": "StopConfigurationRecorder"}]})
    for round_ in range(3):
        _stop_recorder()
        _deliver(sandbox)
        raised = Alert.objects.filter(signature__name="recorder-flapping").count()
        assert raised == (1 if round_ == 2 else 0), round_
    assert SignatureHit.objects.filter(signature__name="recorder-flapping").count() == 3


def test_a_write_outside_the_allowed_regions(world, sandbox, people):
    ec2 = as_person("daisy")("ec2", "ap-southeast-2")
    ec2.create_security_group(GroupName="far", Description="far away")
    _deliver(sandbox)
    alert = Alert.objects.get(signature__name="write-outside-allowed-regions")
    assert alert.region == "ap-southeast-2" and "CreateSecurityGroup" in alert.title


def test_api_alerts_filters_status_changes_and_scope(client, world, sandbox, people):
    _stop_recorder()
    _deliver(sandbox)
    alert = Alert.objects.get(signature__name="config-recorder-stopped")
    client.force_login(people.auditor)
    listed = client.get("/api/alerts/?signature=config-recorder-stopped&severity=high").json()
    row = listed["results"][0]
    assert {"id", "signature", "severity", "event_ids", "resource_id", "team", "status", "ticket"} <= set(row)
    assert row["team"] == "payments" and row["status"] == "OPEN"
    assert client.get("/api/alerts/?severity=loud").status_code == 400
    assert client.get("/api/alerts/?since=yesterday").json() == {"since": ["give an ISO 8601 time such as "
                                                                           "2026-11-28T14:00:00Z"]}
    assert client.patch(f"/api/alerts/{alert.pk}/", {"status": "ACKNOWLEDGED"},
                        content_type="application/json").status_code == 403
    client.force_login(people.dan)  # another team's developer
    assert client.get("/api/alerts/").json()["count"] == 0
    assert client.patch(f"/api/alerts/{alert.pk}/", {"status": "RESOLVED"},
                        content_type="application/json").status_code == 404
    client.force_login(people.daisy)
    bad = client.patch(f"/api/alerts/{alert.pk}/", {"status": "SNOOZED"}, content_type="application/json")
    assert bad.status_code == 400 and "status" in bad.json()
    done = client.patch(f"/api/alerts/{alert.pk}/", {"status": "ACKNOWLEDGED"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status_changed_by"] == "daisy"
    assert Alert.objects.get(pk=alert.pk).history.first().history_user == people.daisy


def test_api_signatures_are_checked_tested_and_promoted(client, people):
    builtin_seed()
    client.force_login(people.admin)
    bad = client.post("/api/signatures/", {"name": "x", "title": "X", "pattern": {"detail": {"eventName": "Nope"}},
                                           "conditions": {"colour": "red"}}, content_type="application/json")
    assert bad.status_code == 400 and "pattern" in bad.json() and "conditions" in bad.json()
    made = client.post("/api/signatures/", {
        "name": "trail-stopped-by-hand", "title": "Trail stopped", "severity": "HIGH",
        "pattern": {"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging"]}},
        "tests": {"positive": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}],
                  "negative": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}]}},
        content_type="application/json")
    assert made.status_code == 201 and made.json()["status"] == "STAGING"
    tested = client.post("/api/signatures/trail-stopped-by-hand/test/").json()
    assert tested["passed"] is False and [r["passed"] for r in tested["results"]] == [True, False]
    refused = client.post("/api/signatures/trail-stopped-by-hand/promote/")
    assert refused.status_code == 400 and "fail" in refused.json()["tests"][0]
    fixed = client.patch("/api/signatures/trail-stopped-by-hand/", {"tests": {
        "positive": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}],
        "negative": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StartLogging"}]}},
        content_type="application/json")
    assert fixed.json()["version"] == 2
    assert client.post("/api/signatures/trail-stopped-by-hand/promote/").json()["status"] == "ACTIVE"
    client.force_login(people.auditor)
    assert client.get("/api/signatures/mfa-disabled/").status_code == 200
    assert client.post("/api/signatures/mfa-disabled/test/").status_code == 403


def test_the_dashboard_and_a_teams_report(client, world, sandbox, people):
    _stop_recorder()
    _deliver(sandbox)
    client.force_login(people.auditor)
    page = client.get("/triage/").content.decode()
    assert "config-recorder-stopped" in page and 'data-testid="alerts-chart"' in page and "<rect" in page
    report = client.get("/triage/?team=payments&format=csv")
    assert report["Content-Disposition"].startswith('attachment; filename="alerts-payments-')
    lines = report.content.decode().splitlines()
    assert lines[0].startswith("id,severity,signature") and any("config-recorder-stopped" in line for line in lines)
    data = client.get("/triage/?team=payments&format=json").json()
    assert data["team"] == "payments" and data["summary"]["open"] == len(data["alerts"]) >= 1
    assert client.get("/triage/?team=research&format=json").json()["alerts"] == []
    assert "days: give a whole number" in client.get("/triage/?days=forever", follow=True).content.decode()
    client.force_login(people.dan)  # another team: sees none of payments' alerts
    assert client.get("/triage/?format=json").json()["alerts"] == []


def test_a_signature_chain_runs_its_remediation_step_on_what_the_event_touched(world, sandbox, people):
    from remediation.models import ActionRun
    from sandbox.testing import as_person

    services.signature_save(signature=Signature.objects.get(name="security-group-open-to-world"), user=people.admin,
                            actions=[{"action": "alert"}, {"action": "revoke_world_ingress"}])
    ec2 = as_person("daisy")("ec2", "us-east-1")
    group = ec2.create_security_group(GroupName="chain", Description="chain")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    _deliver(sandbox)
    run = ActionRun.objects.get(action="revoke_world_ingress", resource_id=group)
    assert run.status == "SUCCEEDED" and run.policy is None
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert not any(r.get("IpRanges") for r in rules)
