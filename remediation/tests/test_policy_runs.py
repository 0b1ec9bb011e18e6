"""Remediation end to end on the sandbox, through CloudTrail files: Daisy opens port 22, the portal closes it."""

import pytest

from audit.selectors import resource_timeline
from audit.models import ConfigResource
from portal import aws
from portal.models import Notification
from remediation.demo import policies_demo_seed, rules_demo_seed
from remediation.models import ActionRun, Policy
from sandbox.testing import as_person
from sandbox.testing import deliver as _deliver

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


def _world_open(group_id: str) -> bool:
    group = aws.client("ec2", account_id="111111111111").describe_security_groups(GroupIds=[group_id])
    ranges = [r["CidrIp"] for p in group["SecurityGroups"][0]["IpPermissions"] for r in p.get("IpRanges", [])]
    return "0.0.0.0/0" in ranges


def test_daisys_open_ssh_is_revoked_and_everyone_is_told(world, sandbox, people):
    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.1.0.0/16"}]}])
    _deliver(sandbox)
    assert not _world_open(group)
    run = ActionRun.objects.get(action="revoke_world_ingress", resource_id=group, policy__name="open-ssh-revoke")
    assert (run.status, run.mode, run.policy.name, run.policy_version) == ("SUCCEEDED", "enforce", "open-ssh-revoke", 1)
    assert run.outcome["verified"] and run.plan["api_call"] == "ec2:RevokeSecurityGroupIngress"
    assert run.reason.startswith("restricted-ssh: ")
    ranges = aws.client("ec2", account_id="111111111111").describe_security_groups(GroupIds=[group])[
        "SecurityGroups"][0]["IpPermissions"][0]["IpRanges"]
    assert [r["CidrIp"] for r in ranges] == ["10.1.0.0/16"]  # only the offending range went
    resource = ConfigResource.objects.get(resource_id=group)
    entries, _ = resource_timeline(resource)
    kinds = [e.kind for e in entries]
    assert "remediation" in kinds and "compliance" in kinds
    fix = next(e for e in entries if e.kind == "remediation")
    assert any(c["before"] and "0.0.0.0/0" in str(c["before"]) for c in fix.diff), fix.diff
    told = set(Notification.objects.filter(subject__contains=group).values_list("user__username", flat=True))
    assert {"daisy", "adam"} <= told
    assert ActionRun.objects.get(action="notify", resource_id=group, policy__name="open-ssh-revoke").status == "SUCCEEDED"


def test_a_stopped_recorder_records_again(world, sandbox):
    config = world("config")  # Daisy stops her account's recorder
    name = config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
    config.stop_configuration_recorder(ConfigurationRecorderName=name)
    _deliver(sandbox)
    status = config.describe_configuration_recorder_status(ConfigurationRecorderNames=[name])
    assert status["ConfigurationRecordersStatus"][0]["recording"] is True
    run = ActionRun.objects.get(action="start_config_recorder")
    assert run.status == "SUCCEEDED" and run.target["details"]["recorder_name"] == name
    # The timeline shows the stop, then the fix: the state the event left is recorded before the action runs.
    recorder = ConfigResource.objects.get(resource_type="AWS::Config::ConfigurationRecorder", resource_id=name,
                                          region="us-east-1", account_id="111111111111")
    states = [(i.cause, i.configuration.get("recording")) for i in recorder.items.order_by("capture_time")]
    assert states[-2:] == [("EVENT", False), ("REMEDIATION", True)], states


def test_in_dry_run_nothing_changes_and_the_run_names_the_action(world, sandbox):
    Policy.objects.filter(name="open-ssh-revoke").update(mode="dry_run")
    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName="web2", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    _deliver(sandbox)
    assert _world_open(group)
    run = ActionRun.objects.get(action="revoke_world_ingress", resource_id=group, policy__name="open-ssh-revoke")
    assert run.status == "DRY_RUN" and run.plan["api_call"] == "ec2:RevokeSecurityGroupIngress"
    assert "0.0.0.0/0" in str(run.plan["parameters"])


def test_the_same_trigger_twice_is_one_run(world, sandbox):
    from remediation.models import Finding
    from remediation.policy_runs import findings_remediate

    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName="web3", Description="web")["GroupId"]
    Policy.objects.filter(name="open-ssh-revoke").update(mode="dry_run")
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    _deliver(sandbox)
    finding = Finding.objects.get(rule__name="restricted-ssh", resource_id=group)
    assert findings_remediate([finding.pk]) == []  # already requested for this violation
    assert ActionRun.objects.filter(resource_id=group, action="revoke_world_ingress", policy__name="open-ssh-revoke").count() == 1


def test_policies_are_checked_and_versioned(client, people):
    rules_demo_seed()
    policies_demo_seed()
    client.force_login(people.admin)
    bad = client.post("/api/policies/", {"name": "x", "rule": "restricted-ssh", "actions": [{"action": "teleport"}]},
                      content_type="application/json")
    assert bad.status_code == 400 and "teleport" in bad.json()["actions"][0]
    both = client.post("/api/policies/", {"name": "y", "actions": [{"action": "notify"}]}, content_type="application/json")
    assert both.status_code == 400 and "either a rule or an event_pattern" in both.json()["rule"][0]
    pattern = client.post("/api/policies/", {"name": "z", "event_pattern": {"detail": {"eventName": "x"}},
                                             "actions": [{"action": "notify"}]}, content_type="application/json")
    assert pattern.status_code == 400 and "detail.eventName" in pattern.json()["event_pattern"][0]
    policy = Policy.objects.get(name="open-ssh-revoke")
    changed = client.patch(f"/api/policies/{policy.pk}/", {"mode": "dry_run"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["version"] == 2


def test_an_admin_fixes_a_finding_by_hand_after_seeing_the_call(client, people, sandbox):
    from remediation.models import Finding
    from sandbox.bootstrap import bootstrap_from_portal

    rules_demo_seed()  # no policy: nothing is fixed until Adam says so
    bootstrap_from_portal()
    ec2 = as_person("daisy")("ec2")
    group = ec2.create_security_group(GroupName="web4", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    _deliver(sandbox)
    finding = Finding.objects.get(rule__name="restricted-ssh", resource_id=group, status="NON_COMPLIANT")
    client.force_login(people.admin)
    page = client.get(f"/compliance/findings/{finding.pk}/fix/").content.decode()
    assert "ec2:RevokeSecurityGroupIngress" in page and "0.0.0.0/0" in page and _world_open(group)
    client.post(f"/compliance/findings/{finding.pk}/fix/", {"action": "revoke_world_ingress"})
    assert not _world_open(group)
    run = ActionRun.objects.get(resource_id=group, action="revoke_world_ingress")
    assert run.policy is None and run.requested_by == people.admin and run.status == "SUCCEEDED"
    client.force_login(people.daisy)
    assert [a["resource_id"] for a in client.get("/api/actions/").json()["results"]] == [group]
    client.force_login(people.dan)
    assert client.get("/api/actions/").json()["count"] == 0
