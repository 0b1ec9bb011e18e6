"""The background-run base (portal.runs) on a real run model: one claimer, the attempt counted in SQL, a release,
the reconciler's hand-out once per interval by its clock, and a run its worker keeps stopping on given up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import RecorderRun, RunStatus
from portal import queue, runs
from portal.models import Account
from portal.tasks import runs_reconcile


@pytest.fixture
def sent(monkeypatch):
    messages: list[tuple] = []
    monkeypatch.setattr(queue, "task_delay", lambda task, *args, **kwargs: messages.append((task, *args)))
    return messages


def _run(**fields) -> RecorderRun:
    return RecorderRun.objects.create(account=Account.objects.get(account_id="111111111111"),
                                      kind=RecorderRun.Kind.SCAN, **fields)


def _age(run: RecorderRun, minutes: int) -> None:
    RecorderRun.objects.filter(pk=run.pk).update(updated=timezone.now() - timedelta(minutes=minutes))


def test_it_lets_one_claimer_have_a_run_and_counts_its_attempts(people):
    run = _run()
    assert RecorderRun.run_claim(run.pk) and not RecorderRun.run_claim(run.pk)
    assert RecorderRun.run_release(run.pk, error="AWS away")
    assert RecorderRun.run_claim(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == (RunStatus.RUNNING, 2, "AWS away") and run.started
    assert RecorderRun.run_finish(run.pk, status=RunStatus.SUCCEEDED)
    assert not RecorderRun.run_finish(run.pk, status=RunStatus.FAILED)  # finished already
    assert RecorderRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED


def test_the_reconciler_hands_a_lost_run_out_once_per_interval(people, sent):
    lost, fresh = _run(), _run()
    _age(lost, 31)
    assert runs_reconcile() == 1 and sent == [("audit.tasks.recorder_run", lost.pk)]
    assert runs_reconcile() == 0 and len(sent) == 1  # handed out: not again before the interval is over
    assert RecorderRun.objects.get(pk=fresh.pk).status == RunStatus.PENDING


def test_a_stopped_run_goes_back_to_waiting_and_is_given_up_past_the_cap(people, sent, caplog):
    stopped = _run(status=RunStatus.RUNNING, attempts=1)
    poison = _run(status=RunStatus.RUNNING, attempts=5)
    _age(stopped, 31)
    _age(poison, 31)
    assert runs_reconcile() == 1 and sent == [("audit.tasks.recorder_run", stopped.pk)]
    assert RecorderRun.objects.get(pk=stopped.pk).status == RunStatus.PENDING
    poison.refresh_from_db()
    assert poison.status == RunStatus.FAILED and "Given up after 5 attempts" in poison.error
    assert f"audit.RecorderRun {poison.pk} given up" in caplog.text


def test_every_run_model_is_registered_with_a_cap():
    labels = {r.label: r.max_attempts for r in runs.registered()}
    assert set(labels) == {"catalog.LaunchRequest", "audit.LogFile", "audit.RecorderRun", "audit.EventHandoff",
                           "remediation.ActionRun", "remediation.DryRun", "triage.FlowLogFile",
                           "onboarding.ConnectionCheck", "catalog.DriftCheck"}
    assert all(cap > 0 for cap in labels.values())
