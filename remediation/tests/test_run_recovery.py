"""Action runs left behind: a worker that stopped mid-run (RUNNING), a lost message (PENDING), AWS out of reach
mid-run. Each ends in its true state, and no fix is made twice."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from portal import aws
from portal.tasks import runs_reconcile
from remediation import runner
from remediation.models import ActionRun, Policy
from remediation.policy_runs import _request
from sandbox.testing import trail_records

pytestmark = pytest.mark.usefixtures("commit_now")
PAYMENTS = "111111111111"
LONG_AGO = timezone.now() - timedelta(minutes=30)


@pytest.fixture
def opened(world):
    """Daisy's group with port 22 open to the world, and open-ssh-revoke's chain for it (revoke, notify)."""
    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName="left-behind", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    runs = _request(Policy.objects.get(name="open-ssh-revoke"), account_id=PAYMENTS, region="us-east-1",
                    resource_type="AWS::EC2::SecurityGroup", resource_id=group, reason="restricted-ssh: open",
                    trigger=f"test:{group}")
    return group, runs[0], runs[1]


def _portal_ec2():
    """EC2 as the remediation role, as the worker's action acted."""
    return aws.client("ec2", account_id=PAYMENTS, role_name=settings.AWS_REMEDIATION_ROLE_NAME,
                      session_name="guardrail-remediation")


def _revokes(sandbox, group: str) -> int:
    return sum(1 for r in trail_records(f"guardrail-cloudtrail-{PAYMENTS}", sandbox)
               if r["eventName"] == "RevokeSecurityGroupIngress" and group in str(r.get("requestParameters")))


def _status(run: ActionRun) -> str:
    run.refresh_from_db()
    return run.status


def test_a_run_whose_worker_stopped_after_the_fix_is_recorded_as_made_once(opened, sandbox):
    group, revoke, notify = opened
    ActionRun.objects.filter(pk=revoke.pk).update(status="RUNNING", started=LONG_AGO, created=LONG_AGO)
    _portal_ec2().revoke_security_group_ingress(  # the call the stopped worker made
        GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    assert runs_reconcile() == 1
    assert (_status(revoke), _status(notify)) == ("SUCCEEDED", "SUCCEEDED")
    assert revoke.outcome["verified"] and "checked again after the worker running it stopped" in revoke.outcome[
        "message"]
    assert _revokes(sandbox, group) == 1
    assert runs_reconcile() == 0


def test_a_run_whose_worker_stopped_before_the_fix_makes_it(opened, sandbox):
    group, revoke, notify = opened
    ActionRun.objects.filter(pk=revoke.pk).update(status="RUNNING", started=LONG_AGO, created=LONG_AGO)
    assert runs_reconcile() == 1
    assert (_status(revoke), _status(notify)) == ("SUCCEEDED", "SUCCEEDED")
    assert revoke.plan["api_call"] == "ec2:RevokeSecurityGroupIngress" and _revokes(sandbox, group) == 1


def test_a_lost_step_after_a_failed_one_is_skipped_and_a_lost_first_step_runs(opened, sandbox):
    _, revoke, notify = opened
    ActionRun.objects.filter(pk=revoke.pk).update(status="FAILED")
    ActionRun.objects.filter(pk=notify.pk).update(created=LONG_AGO)
    assert runs_reconcile() == 0 and _status(notify) == "SKIPPED"
    ActionRun.objects.filter(pk__in=[revoke.pk, notify.pk]).update(status="PENDING", created=LONG_AGO)
    assert runs_reconcile() == 1  # the first step; it carries the second
    assert (_status(revoke), _status(notify)) == ("SUCCEEDED", "SUCCEEDED")


def test_aws_out_of_reach_mid_run_makes_it_wait_not_fail(opened, sandbox, settings, broker):
    group, revoke, notify = opened
    chain = "remediation.tasks.action_chain"
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    aws.reset_credentials_cache()
    with broker.holding():  # the retry waits in the broker (and is lost there)
        before = timezone.now()
        runner.chain_execute(revoke.pk)
        assert broker.taken() == [(chain, revoke.pk)]
    assert (_status(revoke), _status(notify)) == ("PENDING", "PENDING")
    assert revoke.outcome["interrupted"] == "AWS could not be reached"
    due = datetime.fromisoformat(revoke.outcome["retry_at"])
    assert before + timedelta(seconds=30) <= due <= timezone.now() + timedelta(seconds=30)
    # Its message is due in 30 s: an old run waiting out its backoff is not "lost" until well past that.
    ActionRun.objects.filter(pk__in=[revoke.pk, notify.pk]).update(created=LONG_AGO)
    with broker.holding():
        assert runs_reconcile() == 0 and broker.taken() == []
        outcome = {**revoke.outcome, "retry_at": (timezone.now() - timedelta(minutes=6)).isoformat()}
        ActionRun.objects.filter(pk=revoke.pk).update(outcome=outcome)
        assert runs_reconcile() == 1 and broker.taken() == [(chain, revoke.pk)]  # lost: sent again
    settings.AWS_ENDPOINT_URL = sandbox.endpoint
    aws.reset_credentials_cache()
    runner.chain_execute(revoke.pk)  # the retry: AWS is back
    assert (_status(revoke), _status(notify)) == ("SUCCEEDED", "SUCCEEDED")
    assert _revokes(sandbox, group) == 1


def test_a_violation_whose_request_was_lost_is_remediated(world, sandbox):
    from remediation.models import Finding
    from sandbox.testing import deliver

    Policy.objects.filter(name="open-ssh-revoke").update(mode="off")  # as if remediate_findings never arrived
    ec2 = world("ec2")
    group = ec2.create_security_group(GroupName="request-lost", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    deliver(sandbox)
    Policy.objects.filter(name="open-ssh-revoke").update(mode="enforce")
    Finding.objects.filter(rule__name="restricted-ssh", resource_id=group).update(since=LONG_AGO)
    assert runs_reconcile() == 1
    runs = ActionRun.objects.filter(resource_id=group, policy__name="open-ssh-revoke").order_by("step")
    assert [(r.action, r.status) for r in runs] == [("revoke_world_ingress", "SUCCEEDED"), ("notify", "SUCCEEDED")]
    assert runs_reconcile() == 0
