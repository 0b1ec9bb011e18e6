"""New events are handed on durably: a row per consumer in the same transaction as the events; a lost message or
a stopped consumer is sent again by the reconciler; a consumer run twice does the work once; a file broken mid-way
leaves every stored batch handed on."""

from datetime import timedelta

import pytest
from botocore.exceptions import ResponseStreamingError
from django.utils import timezone

from audit import cloudtrail_delivery, handoffs
from audit.models import CloudTrailEvent, EventHandoff, RunStatus
from audit.services import records_ingest
from audit.tasks import cloudtrail_ingest_file
from audit.tests.test_ingest_interrupted import KEY, _body, _BreaksAfter
from portal.celery import app as celery_app
from portal.tasks import runs_reconcile
from triage.builtin_signatures import builtin_seed
from triage.models import SignatureHit
from triage.tasks import match_events

MATCH, REMEDIATE, RECORD = "triage.tasks.match_events", "remediation.tasks.remediate_events", "audit.tasks.recorder_events"


def _login(event_id: str) -> dict:
    return {"eventVersion": "1.08", "eventID": event_id, "eventTime": "2026-11-28T12:00:00Z",
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn",
            "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "sourceIPAddress": "198.51.100.7",
            "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": "111111111111"},
            "additionalEventData": {"MFAUsed": "No"}, "responseElements": {"ConsoleLogin": "Success"}}


def _authorize(event_id: str) -> dict:
    return {"eventVersion": "1.08", "eventID": event_id, "eventTime": "2026-11-28T12:00:00Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress", "readOnly": False,
            "eventType": "AwsApiCall", "awsRegion": "us-east-1", "recipientAccountId": "111111111111",
            "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": "111111111111"},
            "requestParameters": {"groupId": "sg-0123456789abcdef0"},
            "resources": [{"type": "AWS::EC2::SecurityGroup", "ARN": "arn:aws:ec2:us-east-1:111111111111:"
                                                                    "security-group/sg-0123456789abcdef0"}]}


@pytest.fixture
def lost(broker):
    """Tasks are sent to the broker (not run in process) and never taken: every hand-on message is lost."""
    with broker.holding():
        yield broker


def _age(minutes: int, **filters) -> None:
    EventHandoff.objects.filter(**filters).update(updated=timezone.now() - timedelta(minutes=minutes))


def test_a_lost_message_is_sent_again_and_the_signatures_see_the_event(people, lost,
                                                                       django_capture_on_commit_callbacks):
    builtin_seed()
    with django_capture_on_commit_callbacks(execute=True):
        records_ingest([_login("login-1")])
    handoff = EventHandoff.objects.get()
    assert (handoff.consumer, handoff.event_ids, handoff.status) == (MATCH, ["login-1"], RunStatus.PENDING)
    assert lost.taken() == [(MATCH, handoff.pk)] and not SignatureHit.objects.exists()
    assert runs_reconcile() == 0 and lost.taken() == []  # a message may still be on its way
    _age(3)
    assert runs_reconcile() == 1
    [(task, handoff_id)] = lost.taken()
    assert (task, handoff_id) == (MATCH, handoff.pk)
    celery_app.tasks[task].apply(args=[handoff_id])  # the reconciler's message, taken by a worker here in process
    handoff.refresh_from_db()
    assert (handoff.status, handoff.attempts) == (RunStatus.SUCCEEDED, 1)
    assert list(SignatureHit.objects.values_list("signature__name", "event_id")) == [
        ("console-login-without-mfa", "login-1")]
    assert match_events(handoff.pk) == 0  # a duplicate message finds it done
    assert SignatureHit.objects.count() == 1


def test_the_reconciler_sends_pending_and_stopped_handoffs_again_and_forgets_old_done_ones(people, lost):
    waiting = EventHandoff.objects.create(consumer=MATCH, event_ids=["a"])
    stopped = EventHandoff.objects.create(consumer=MATCH, event_ids=["b"], status=RunStatus.RUNNING, attempts=1)
    busy = EventHandoff.objects.create(consumer=MATCH, event_ids=["c"], status=RunStatus.RUNNING, attempts=1)
    done = EventHandoff.objects.create(consumer=MATCH, event_ids=["d"], status=RunStatus.SUCCEEDED, attempts=1)
    unknown = EventHandoff.objects.create(consumer="gone.tasks.old", event_ids=["e"])
    _age(3, pk__in=[waiting.pk, busy.pk, unknown.pk])
    _age(6, pk=stopped.pk)
    _age(60 * 25, pk=done.pk)
    assert runs_reconcile() == 2
    assert sorted(lost.taken()) == [(MATCH, waiting.pk), (MATCH, stopped.pk)]
    assert dict(EventHandoff.objects.values_list("pk", "status")) == {
        waiting.pk: RunStatus.PENDING, stopped.pk: RunStatus.PENDING, busy.pk: RunStatus.RUNNING,
        unknown.pk: RunStatus.PENDING}
    assert runs_reconcile() == 0  # just sent: not again until they wait too long once more


def test_writes_go_to_the_recorder_and_the_event_rules_only_from_the_trail(people, lost,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        records_ingest([_authorize("w-1"), _login("r-1")])  # a one-off import: signatures only
    assert list(EventHandoff.objects.values_list("consumer", "event_ids")) == [(MATCH, ["w-1", "r-1"])]
    EventHandoff.objects.all().delete()
    lost.taken()
    with django_capture_on_commit_callbacks(execute=True):
        records_ingest([_authorize("w-2"), _login("r-2"), _authorize("w-1")], act_on_writes=True)
    assert sorted(EventHandoff.objects.values_list("consumer", "event_ids")) == [
        (RECORD, ["w-2"]), (REMEDIATE, ["w-2"]), (MATCH, ["w-2", "r-2"])]  # w-1 was stored already
    assert [task for task, _ in lost.taken()] == [REMEDIATE, MATCH, RECORD]  # the recorder's snapshot last


def test_a_file_broken_mid_way_has_every_stored_batch_handed_on(people, lost, monkeypatch):
    body = _body(3000)
    monkeypatch.setattr(cloudtrail_delivery, "open_object", lambda **kwargs: _BreaksAfter(body, len(body) // 2))
    with pytest.raises(ResponseStreamingError):
        cloudtrail_ingest_file("111111111111", "guardrail-cloudtrail-111111111111", KEY.format("cut"))
    stored = set(CloudTrailEvent.objects.values_list("event_id", flat=True))
    handed = {i for ids in EventHandoff.objects.filter(consumer=MATCH).values_list("event_ids", flat=True) for i in ids}
    assert 0 < len(stored) < 3000 and handed == stored


def test_a_batch_its_consumer_keeps_stopping_on_is_left_failed_not_sent_for_ever(people, lost, caplog):
    poison = EventHandoff.objects.create(consumer=MATCH, event_ids=["p"], status=RunStatus.RUNNING,
                                         attempts=handoffs.MAX_ATTEMPTS)
    again = EventHandoff.objects.create(consumer=MATCH, event_ids=["q"], status=RunStatus.RUNNING,
                                        attempts=handoffs.MAX_ATTEMPTS - 1)
    _age(6)
    assert runs_reconcile() == 1 and lost.taken() == [(MATCH, again.pk)]
    poison.refresh_from_db()
    assert poison.status == RunStatus.FAILED
    assert f"stopped on the same 1 events {handoffs.MAX_ATTEMPTS} times" in caplog.text


def test_the_broker_away_does_not_stop_ingest_and_the_rows_wait(people, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    def away(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(match_events, "apply_async", away)  # what .delay publishes with: the broker refuses it
    with django_capture_on_commit_callbacks(execute=True):
        counts = records_ingest([_login("away-1")])
    assert counts["stored"] == 1
    assert list(EventHandoff.objects.values_list("status", flat=True)) == [RunStatus.PENDING]
    _age(3)
    assert runs_reconcile() == 0  # still away: tried, left PENDING for the next round
    assert list(EventHandoff.objects.values_list("status", flat=True)) == [RunStatus.PENDING]
