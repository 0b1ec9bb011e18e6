"""The real-time path on the sandbox: EventBridge's copy of a real call's CloudTrail record, on the real queue
guardrail-events the management kit made, stored the moment the consumer reads it; the log file's copy later only
completes it."""

import json

import pytest
from django.core.management import call_command

from audit.models import CloudTrailEvent, EventHandoff, EventMessage
from audit import realtime
from audit.realtime import HEARTBEAT, Consumer
from audit.tests.eventbridge import arrive, eventbridge_event, put_on_queue, quiet, record_for, waiting
from portal import aws
from portal.models import Heartbeat
from sandbox.testing import as_person, deliver

pytestmark = pytest.mark.usefixtures("commit_now")  # what waits for the commit (enqueueing) runs at once

DAISY_ACCOUNT = "111111111111"
DAISY_TRAIL = f"guardrail-cloudtrail-{DAISY_ACCOUNT}"


@pytest.fixture
def daisy(people, sandbox):
    """The organisation with its kits (the bootstrap's CloudFormation), Daisy's own clients."""
    from sandbox.bootstrap import bootstrap_from_portal

    bootstrap_from_portal()
    people = as_person("daisy")
    quiet(sandbox)
    return people


def _consume() -> Consumer:
    consumer = Consumer(wait_seconds=0)
    while consumer.poll_once():
        pass
    return consumer


def _group(daisy, sandbox, name: str = "web") -> tuple[str, dict]:
    """A security group Daisy makes, and the CloudTrail record the sandbox wrote for it."""
    group = daisy("ec2").create_security_group(GroupName=name, Description=name)["GroupId"]
    return group, record_for(sandbox, DAISY_TRAIL, "CreateSecurityGroup", groupName=name)


def _handoffs(event_id: str) -> list[str]:
    return sorted(h.consumer for h in EventHandoff.objects.all() if event_id in h.event_ids)


def test_eventbridges_copy_is_stored_at_once_and_the_log_files_copy_only_completes_it(daisy, sandbox, client,
                                                                                       people):
    group, record = _group(daisy, sandbox)
    arrive(sandbox)  # the sandbox's own event, through the kit's rules
    consumer = _consume()
    assert consumer.totals["stored"] == 1 and waiting() == 0  # deleted once stored

    stored = CloudTrailEvent.objects.get(event_id=record["eventID"])
    assert (stored.user_name, stored.account_id, stored.log_file, stored.via) == ("daisy", DAISY_ACCOUNT, None,
                                                                                  "EVENTBRIDGE")
    assert stored.raw["recipientAccountId"] == DAISY_ACCOUNT  # from the event's own account
    handed = _handoffs(record["eventID"])
    assert "triage.tasks.match_events" in handed and "audit.tasks.recorder_events" in handed
    client.force_login(people.auditor)
    listed = client.get("/api/events/?event_name=CreateSecurityGroup").json()["results"]
    assert [e["event_id"] for e in listed] == [record["eventID"]] and listed[0]["username"] == "daisy"

    deliver(sandbox)  # five minutes later in AWS: the file, with the same eventID
    assert CloudTrailEvent.objects.filter(event_id=record["eventID"]).count() == 1
    stored.refresh_from_db()
    assert stored.log_file is not None and stored.log_file.duplicates >= 1
    assert stored.raw["managementEvent"] is True and stored.raw["eventCategory"] == "Management"
    assert _handoffs(record["eventID"]) == handed  # nothing acted again


def test_when_the_file_came_first_eventbridges_copy_changes_nothing(daisy, sandbox):
    _, record = _group(daisy, sandbox)
    deliver(sandbox)
    stored = CloudTrailEvent.objects.get(event_id=record["eventID"])
    handed, raw = _handoffs(record["eventID"]), stored.raw
    assert handed

    arrive(sandbox)
    consumer = _consume()
    # (the queue also brings the portal's own AssumeRole calls of the ingest: Guardrail's reads, not stored)
    assert (consumer.totals["stored"], consumer.totals["duplicates"], consumer.totals["quarantined"]) == (0, 1, 0)
    stored.refresh_from_db()
    assert stored.raw == raw and _handoffs(record["eventID"]) == handed and waiting() == 0


def test_a_malformed_message_is_kept_with_its_reason_and_the_consumer_goes_on(daisy, sandbox, client, people):
    _, record = _group(daisy, sandbox)
    no_id = eventbridge_event(record)
    no_id["detail"] = {k: v for k, v in no_id["detail"].items() if k != "eventID"}
    put_on_queue("{not json", [1, 2], {**eventbridge_event(record), "detail-type": "EC2 Instance State-change "
                                                                                  "Notification"}, no_id)
    arrive(sandbox)
    consumer = _consume()
    assert (consumer.totals["stored"], consumer.totals["duplicates"], consumer.totals["quarantined"]) == (1, 0, 4)
    reasons = list(EventMessage.objects.order_by("id").values_list("reason", flat=True))
    assert reasons[0].startswith("not JSON") and "not an EventBridge event (a JSON list)" in reasons[1]
    assert "is not a CloudTrail event's" in reasons[2] and "missing required field(s): eventID" in reasons[3]
    assert EventMessage.objects.get(reason=reasons[0]).body == "{not json"
    assert CloudTrailEvent.objects.filter(event_id=record["eventID"]).exists() and waiting() == 0
    client.force_login(people.admin)
    page = client.get("/ops/").content.decode()
    assert "4 messages kept aside" in page and "missing required field(s): eventID" in page


def test_the_consumer_says_it_is_alive_and_the_operations_page_shows_it(daisy, sandbox, client, people):
    _, record = _group(daisy, sandbox)
    arrive(sandbox)
    out = []
    call_command("events_consume", "--once", "--wait", "0", stdout=type("W", (), {"write": out.append})())
    assert "1 message(s)" in out[0]
    beat = Heartbeat.objects.get(name=HEARTBEAT)
    assert beat.detail.startswith("1 messages received in the last minute")
    client.force_login(people.admin)
    page = client.get("/ops/").content.decode()
    assert 'data-testid="ops-events-consumer"' in page and "1 messages received in the last minute" in page


def test_aws_out_of_reach_is_waited_out_and_stop_ends_the_run(daisy, sandbox, settings):
    _, record = _group(daisy, sandbox)
    arrive(sandbox)
    waits = []
    consumer = Consumer(wait_seconds=0, sleep=lambda seconds: waits.append(seconds))
    settings.EVENTS_QUEUE_NAME = "no-such-queue"

    def after_a_failure(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            settings.EVENTS_QUEUE_NAME = "guardrail-events"  # the queue is back

    consumer._sleep = after_a_failure
    receive = consumer.queue.receive

    def receive_then_stop(**kwargs):
        messages = receive(**kwargs)
        if not messages:
            consumer.stop()
        return messages

    consumer.queue.receive = receive_then_stop
    consumer.run()
    assert waits == [1.0, 2.0] and consumer.totals["stored"] == 1 and consumer.stopping


def test_without_the_kits_grant_the_queue_cannot_be_read_as_in_aws(people, enforced_sandbox, settings):
    """The GuardrailPortal role in the management account reads guardrail-events because its TrailQueue statement
    names it: without that, AWS (and the sandbox enforcing IAM) refuses."""
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.operator import operator_client

    bootstrap_from_portal()
    consumer = Consumer(wait_seconds=0)
    consumer.poll_once()  # the kit grants it (the queue holds the bootstrap's own events)
    iam = operator_client("iam", settings.AWS_MANAGEMENT_ACCOUNT_ID)
    document = iam.get_role_policy(RoleName="GuardrailPortal", PolicyName="GuardrailPortalRead")["PolicyDocument"]
    for statement in document["Statement"]:
        if statement.get("Sid") == "TrailQueue":
            statement["Resource"] = [r for r in statement["Resource"] if not r.endswith(":guardrail-events")]
    iam.put_role_policy(RoleName="GuardrailPortal", PolicyName="GuardrailPortalRead", PolicyDocument=json.dumps(document))
    aws.reset_credentials_cache()
    with pytest.raises(aws.ClientError) as refused:
        Consumer(wait_seconds=0).poll_once()
    assert aws.error_code(refused.value) in ("AccessDenied", "AccessDeniedException")


def test_a_signal_ends_a_waiting_poll_at_once_and_lets_a_batch_finish(daisy, sandbox):
    consumer = Consumer(wait_seconds=0)
    consumer.polling = True  # as inside receive_message's long poll
    with pytest.raises(SystemExit):
        consumer.signalled()
    assert consumer.stopping
    _, record = _group(daisy, sandbox)
    arrive(sandbox)
    consumer = Consumer(wait_seconds=0)
    store = realtime.messages_store

    def signalled_while_storing(messages):
        consumer.signalled()  # between receive and delete: no exit, the messages are stored and deleted
        return store(messages)

    realtime.messages_store = signalled_while_storing
    try:
        consumer.run()
    finally:
        realtime.messages_store = store
    assert consumer.totals["stored"] == 1 and CloudTrailEvent.objects.filter(event_id=record["eventID"]).exists()
    left = [json.loads(m.body)["detail"]["eventID"] for m in consumer.queue.receive(wait_seconds=0)]
    assert record["eventID"] not in left  # deleted (what is left: the hand-ons' own AssumeRole calls)


def test_a_message_whose_event_could_not_be_stored_stays_on_the_queue(daisy, sandbox, monkeypatch):
    """The database out of reach: nothing is deleted (SQS shows the message again after its visibility timeout), the
    consumer waits and goes on."""
    from django.db import OperationalError

    _, record = _group(daisy, sandbox)
    arrive(sandbox)

    def database_gone(messages):
        raise OperationalError("connection refused")

    monkeypatch.setattr(realtime, "messages_store", database_gone)
    waits = []
    consumer = Consumer(wait_seconds=0, sleep=lambda seconds: (waits.append(seconds), consumer.stop()))
    consumer.run()
    assert waits == [1.0] and waiting() == 1 and not CloudTrailEvent.objects.filter(event_id=record["eventID"]).exists()


def test_one_polls_events_are_handed_on_together_and_a_bad_record_is_kept_aside_alone(daisy, sandbox):
    """Under load each poll brings up to ten events: one hand-on per consumer for the batch (issue 19 point 6: per
    event, 20 writes a second made more tasks than the fast worker runs). A record the ingest cannot read rolls the
    batch back; stored one at a time, only its message is kept aside."""
    records = [_group(daisy, sandbox, f"batch-{n}")[1] for n in range(3)]
    arrive(sandbox)
    consumer = _consume()
    assert consumer.totals["stored"] == 3 and waiting() == 0
    ids = {r["eventID"] for r in records}
    rows = [h for h in EventHandoff.objects.filter(consumer="audit.tasks.recorder_events") if ids & set(h.event_ids)]
    assert len(rows) == 1 and ids <= set(rows[0].event_ids)

    record = _group(daisy, sandbox, "batch-more")[1]
    arrive(sandbox)
    _consume()
    good = {**record, "eventID": "batch-good-0001"}
    no_id = eventbridge_event(record)
    no_id["detail"] = {k: v for k, v in no_id["detail"].items() if k != "eventID"}
    put_on_queue(eventbridge_event(good), no_id)
    consumer = _consume()
    assert (consumer.totals["stored"], consumer.totals["quarantined"]) == (1, 1)
    assert CloudTrailEvent.objects.filter(event_id=good["eventID"]).count() == 1
    assert "missing required field(s): eventID" in EventMessage.objects.get().reason
