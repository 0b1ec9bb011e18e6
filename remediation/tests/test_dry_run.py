"""Dry-run against the past, on the sandbox through CloudTrail files: the report, the differences from what the
active versions did, the compliance, approve-and-apply as a plan (re-checked), event rules replayed, the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal import aws
from remediation import dryrun, services
from remediation.models import ActionRun, DryRun, Policy
from sandbox.testing import deliver as _deliver

ACCOUNT = "111111111111"


pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


def _ranges(group_id: str) -> list[str]:
    group = aws.client("ec2", account_id=ACCOUNT).describe_security_groups(GroupIds=[group_id])
    return [r["CidrIp"] for p in group["SecurityGroups"][0]["IpPermissions"] for r in p.get("IpRanges", [])]


def _open_ssh(world, sandbox, name: str) -> str:
    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.1.0.0/16"}]}])
    _deliver(sandbox)
    return group


def _policy(name: str) -> Policy:
    return Policy.objects.get(name=name)


def _last_hour(people, *names: str) -> DryRun:
    now = timezone.now()
    created = dryrun.dry_run_create(policy_ids=[_policy(n).pk for n in names], since=now - timedelta(hours=1),
                                    until=now + timedelta(seconds=1), user=people.admin)
    created.refresh_from_db()
    return created


def test_the_report_names_the_revoke_and_nothing_changes(world, sandbox, people):
    services.policy_save(policy=_policy("open-ssh-revoke"), mode="dry_run")
    group = _open_ssh(world, sandbox, "dry-web")
    assert "0.0.0.0/0" in _ranges(group)  # the live policy is in dry_run: nothing changed
    result = _last_hour(people, "open-ssh-revoke")
    assert result.status == "SUCCEEDED", result.error
    mine = [a for a in result.report["actions"] if a["target"]["resource_id"] == group]
    revoke = next(a for a in mine if a["action"] == "revoke_world_ingress")
    assert revoke["outcome"] == "WOULD_RUN" and revoke["api_call"] == "ec2:RevokeSecurityGroupIngress"
    assert revoke["parameters"]["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]  # not 10.1.0.0/16
    assert "0.0.0.0/0" in revoke["expected_change"] and revoke["policy_version"] == 2
    assert revoke["trigger"]["kind"] == "finding" and revoke["trigger"]["rule"] == "restricted-ssh"
    assert [a["action"] for a in mine] == ["revoke_world_ingress", "notify"]
    # The active version (v2, dry_run) recorded the same revoke live: the report says so.
    same = [d for d in result.report["differences"]["same"] if d["resource_id"] == group]
    assert same and same[0]["active"]["mode"] == "dry_run"
    ssh = next(c for c in result.report["compliance"] if c["rule"] == "restricted-ssh")
    assert group in ssh["fixed"] and ssh["would_be_non_compliant"] == ssh["recorded_non_compliant"] - len(ssh["fixed"])
    assert "0.0.0.0/0" in _ranges(group)  # the dry run changed nothing either


def test_an_approved_report_is_applied_as_a_plan_each_action_checked_again(world, sandbox, people):
    services.policy_save(policy=_policy("open-ssh-revoke"), mode="off")
    fixed = _open_ssh(world, sandbox, "plan-a")
    changed = _open_ssh(world, sandbox, "plan-b")
    report = _last_hour(people, "open-ssh-revoke")
    assert {a["target"]["resource_id"] for a in report.report["actions"] if a["outcome"] == "WOULD_RUN"} >= {
        fixed, changed}
    assert not report.report["differences"]["same"]  # the policy was off: the active version did nothing
    # Before the plan is applied, Daisy closes plan-b herself: its action must not run on a stale plan.
    world("ec2").revoke_security_group_ingress(GroupId=changed, IpProtocol="tcp", FromPort=22, ToPort=22,
                                               CidrIp="0.0.0.0/0")
    first = dryrun.dry_run_apply(dry_run=report, user=people.admin)
    assert first
    assert _ranges(fixed) == ["10.1.0.0/16"]
    runs = ActionRun.objects.filter(dry_run=report, action="revoke_world_ingress")
    done = runs.get(resource_id=fixed)
    assert done.status == "SUCCEEDED" and done.outcome["verified"] and done.mode == "enforce"
    stale = runs.get(resource_id=changed)
    assert stale.status == "SKIPPED" and "Target changed since the plan" in stale.outcome["message"]
    assert ActionRun.objects.get(dry_run=report, resource_id=changed, action="notify").status == "SKIPPED"
    with pytest.raises(ValidationError, match="applied already"):
        dryrun.dry_run_apply(dry_run=DryRun.objects.get(pk=report.pk), user=people.admin)


def test_an_event_rule_is_replayed_with_the_name_the_event_gave(clock, world, sandbox, people):
    services.policy_save(policy=_policy("recorder-guard"), mode="off")
    _deliver(sandbox)  # the bootstrap's calls first: the recorder is recorded recording
    clock.advance(1)  # eventTime has whole seconds: the stop comes in a later one, as it would
    config = world("config")  # Daisy stops her account's recorder
    name = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
    config.stop_configuration_recorder(ConfigurationRecorderName=name)
    _deliver(sandbox)
    report = _last_hour(people, "recorder-guard")
    start = [a for a in report.report["actions"] if a["action"] == "start_config_recorder"]
    assert start and start[0]["outcome"] == "WOULD_RUN", start
    assert start[0]["parameters"] == {"ConfigurationRecorderName": name}
    assert start[0]["trigger"]["event_name"] == "StopConfigurationRecorder"
    assert [d["action"] for d in report.report["differences"]["only_dry_run"]] == ["start_config_recorder"]
    status = config.describe_configuration_recorder_status(ConfigurationRecorderNames=[name])
    assert status["ConfigurationRecordersStatus"][0]["recording"] is False  # replayed, not run


def test_replaying_an_enforced_event_rule_finds_what_it_did(clock, world, sandbox, people):
    _deliver(sandbox)
    clock.advance(1)
    config = world("config")  # Daisy stops her account's recorder
    name = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
    config.stop_configuration_recorder(ConfigurationRecorderName=name)
    _deliver(sandbox)  # recorder-guard (enforce) starts it again
    report = _last_hour(people, "recorder-guard")
    start = next(a for a in report.report["actions"] if a["action"] == "start_config_recorder")
    assert start["outcome"] == "WOULD_RUN" and start["parameters"] == {"ConfigurationRecorderName": name}
    same = report.report["differences"]["same"]
    assert [(d["action"], d["active"]["status"]) for d in same] == [("start_config_recorder", "SUCCEEDED")]


def test_the_blast_radius_holds_past_the_limit_in_the_replay_too(world, sandbox, people):
    services.policy_save(policy=_policy("open-ssh-revoke"), mode="off", max_resources=1)
    groups = [_open_ssh(world, sandbox, f"radius-{i}") for i in range(2)]
    report = _last_hour(people, "open-ssh-revoke")
    outcomes = sorted(a["outcome"] for a in report.report["actions"]
                      if a["action"] == "revoke_world_ingress" and a["target"]["resource_id"] in groups)
    assert outcomes == ["HELD", "WOULD_RUN"]


def test_deleted_flow_logs_are_created_again_as_they_were(world, sandbox, people):
    ec2 = world("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    world("s3").create_bucket(Bucket="daisy-flow-logs")
    flow_log = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT",
                                    LogDestinationType="s3", LogDestination="arn:aws:s3:::daisy-flow-logs")[
        "FlowLogIds"][0]
    _deliver(sandbox)
    ec2.delete_flow_logs(FlowLogIds=[flow_log])
    _deliver(sandbox)
    logs = aws.client("ec2", account_id=ACCOUNT).describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
    assert [(f["TrafficType"], f["LogDestination"]) for f in logs] == [("REJECT", "arn:aws:s3:::daisy-flow-logs")]
    run = ActionRun.objects.get(policy__name="flow-logs-guard", action="enable_vpc_flow_logs")
    assert run.status == "SUCCEEDED" and run.resource_id == vpc and run.outcome["verified"]


# --- the API ---

def test_api_dry_runs_ask_read_and_refuse_bad_input(client, world, sandbox, people):
    services.policy_save(policy=_policy("open-ssh-revoke"), mode="dry_run")
    group = _open_ssh(world, sandbox, "api-web")
    policy = _policy("open-ssh-revoke")
    now = timezone.now()
    body = {"policies": [policy.pk], "since": (now - timedelta(hours=1)).isoformat(),
            "until": (now + timedelta(seconds=1)).isoformat()}
    client.force_login(people.daisy)
    assert client.post("/api/dry-runs/", body, content_type="application/json").status_code == 403
    client.force_login(people.auditor)
    assert client.post("/api/dry-runs/", body, content_type="application/json").status_code == 403
    client.force_login(people.admin)
    created = client.post("/api/dry-runs/", body, content_type="application/json")
    assert created.status_code == 201 and set(created.json()) == {"id", "status"}
    for person in (people.admin, people.auditor):
        client.force_login(person)
        got = client.get(f"/api/dry-runs/{created.json()['id']}/").json()
        assert got["status"] == "SUCCEEDED"
        revoke = next(a for a in got["actions"] if a["target"]["resource_id"] == group
                      and a["action"] == "revoke_world_ingress")
        assert {"policy", "action", "target", "api_call", "parameters", "expected_change"} <= set(revoke)
        assert revoke["policy"] == "open-ssh-revoke" and "plan" not in revoke
    client.force_login(people.admin)
    bad = [({**body, "since": body["until"], "until": body["since"]}, "until"),
           ({**body, "policies": [999999]}, "policies"), ({**body, "policies": []}, "policies"),
           ({**body, "since": "yesterday"}, "since"), ({"policies": [policy.pk]}, "since"),
           ({**body, "since": (now + timedelta(days=1)).isoformat(),
             "until": (now + timedelta(days=2)).isoformat()}, "since")]
    for payload, field in bad:
        answer = client.post("/api/dry-runs/", payload, content_type="application/json")
        assert answer.status_code == 400 and field in answer.json(), (payload, answer.content)
    client.force_login(people.daisy)
    assert client.post(f"/api/dry-runs/{created.json()['id']}/apply/").status_code == 403
    assert "0.0.0.0/0" in _ranges(group)
    client.force_login(people.admin)
    applied = client.post(f"/api/dry-runs/{created.json()['id']}/apply/")
    assert applied.status_code == 202 and applied.json()[0]["action"] == "revoke_world_ingress"
    assert "0.0.0.0/0" not in _ranges(group)
    again = client.post(f"/api/dry-runs/{created.json()['id']}/apply/")
    assert again.status_code == 400 and "applied already" in again.json()["dry_run"][0]


class FlakyPlugin:
    """A plug-in rule as another package would write it, that breaks once `broken` (a new release, say)."""

    name = identifier = "flaky-plugin"
    description = "Breaks after an upgrade"
    resource_types = ("AWS::EC2::Instance",)
    parameters = ()
    periodic = False
    broken = False

    def evaluate(self, resource, params):
        from remediation.rules.base import COMPLIANT, Evaluation

        if FlakyPlugin.broken:
            raise RuntimeError("the plug-in broke on " + resource.resource_id)
        return Evaluation(COMPLIANT, "fine")


def test_a_failed_replay_is_a_row_that_says_why(people, monkeypatch):
    from importlib.metadata import EntryPoint

    from audit.config.base import Snapshot
    from audit.recorder import snapshots_record
    from portal.models import Account
    from remediation import compliance
    from remediation.models import Rule

    plugin = EntryPoint(name="flaky-plugin", value=f"{__name__}:FlakyPlugin", group=compliance.PLUGIN_GROUP)
    monkeypatch.setattr(compliance, "entry_points", lambda group: [plugin])  # installed packages' entry points
    compliance.plugins.cache_clear()
    rule = services.rule_save(name="flaky-plugin", kind=Rule.Kind.PLUGIN, source="flaky-plugin")
    policy = services.policy_save(name="flaky-notify", rule=rule, actions=[{"action": "notify"}])
    snapshots_record(account=Account.objects.get(account_id=ACCOUNT), resource_type="AWS::EC2::Instance",
                     cause="SCAN", snapshots=[Snapshot("AWS::EC2::Instance", "i-flaky", "us-east-1", {})])
    monkeypatch.setattr(FlakyPlugin, "broken", True)
    now = timezone.now()
    try:
        result = dryrun.dry_run_create(policy_ids=[policy.pk], since=now - timedelta(hours=1),
                                       until=now + timedelta(seconds=1), user=people.admin)
    finally:
        compliance.plugins.cache_clear()
    result.refresh_from_db()
    assert result.status == "FAILED" and result.error == "RuntimeError: the plug-in broke on i-flaky"
    assert dryrun.dry_run_execute(result.pk) is None  # claimed once: a second delivery does nothing
