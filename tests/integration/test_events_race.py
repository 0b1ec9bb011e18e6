"""Two copies of one CloudTrail event stored at the same moment by two processes, on PostgreSQL: EventBridge's copy
twice (EventBridge delivers at least once; two consumers each took one), or EventBridge's and the log file's. One
event, handed on once, whoever wins; the file's copy completes the record either way.

The race is forced, not simulated: both copies pass the "stored already?" check before either inserts (a barrier
at the insert), so the unique eventID and the insert's own batch id decide who acts."""

import json
import threading

import pytest
from django.db import connection

from audit import realtime, services
from audit.models import CloudTrailEvent, EventHandoff, LogFile
from audit.tests.eventbridge import eventbridge_event, record_for
from sandbox.testing import as_person

pytestmark = pytest.mark.integration


@pytest.fixture
def record(transactional_db, sandbox):
    """The CloudTrail record of a security group Daisy made (the sandbox's file), the organisation bootstrapped."""
    from catalog.demo import catalog_demo_seed
    from portal.demo import demo_seed
    from sandbox.bootstrap import bootstrap_from_portal

    demo_seed()
    catalog_demo_seed()
    bootstrap_from_portal()
    as_person("daisy")("ec2").create_security_group(GroupName="race", Description="race")
    return record_for(sandbox, "guardrail-cloudtrail-111111111111", "CreateSecurityGroup", groupName="race")


def _race(monkeypatch, *copies) -> list[BaseException]:
    """Run each copy's store in a thread of its own, all reaching the insert before any inserts."""
    barrier = threading.Barrier(len(copies), timeout=30)
    insert = CloudTrailEvent.objects.bulk_create

    def insert_together(objs, *args, **kwargs):
        if objs:
            barrier.wait()
        return insert(objs, *args, **kwargs)

    monkeypatch.setattr(CloudTrailEvent.objects, "bulk_create", insert_together)
    errors: list[BaseException] = []

    def run(store) -> None:
        try:
            store()
        except BaseException as exc:  # noqa: BLE001  (reported by the test, not lost in the thread)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _hand_ons(event_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for handoff in EventHandoff.objects.all():
        counts[handoff.consumer] = counts.get(handoff.consumer, 0) + handoff.event_ids.count(event_id)
    return counts


def test_eventbridges_copy_twice_at_once_is_one_event_handed_on_once(record, monkeypatch):
    body = json.dumps(eventbridge_event(record))
    outcomes: list[realtime.Outcome] = []
    copy = lambda: outcomes.append(realtime.message_store(message_id="m", body=body))  # noqa: E731
    assert _race(monkeypatch, copy, copy) == []
    assert sorted((o.stored, o.duplicate) for o in outcomes) == [(False, True), (True, False)]
    assert CloudTrailEvent.objects.filter(event_id=record["eventID"]).count() == 1
    hand_ons = _hand_ons(record["eventID"])
    assert hand_ons and set(hand_ons.values()) == {1}, hand_ons


def test_eventbridges_copy_and_the_files_at_once_are_one_complete_event_handed_on_once(record, monkeypatch):
    body = json.dumps(eventbridge_event(record))
    log_file = LogFile.objects.create(bucket="guardrail-cloudtrail-111111111111", key="AWSLogs/race.json.gz",
                                      account_id="111111111111")
    assert _race(monkeypatch, lambda: realtime.message_store(message_id="m", body=body),
                 lambda: services.records_ingest([record], log_file=log_file, act_on_writes=True)) == []
    stored = CloudTrailEvent.objects.get(event_id=record["eventID"])
    assert stored.log_file_id == log_file.pk and stored.raw["managementEvent"] is True  # the file's, or completed
    hand_ons = _hand_ons(record["eventID"])
    assert hand_ons and set(hand_ons.values()) == {1}, hand_ons
