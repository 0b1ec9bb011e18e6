"""The production shape, end to end over HTTP: docker-compose.yml's services as real processes (gunicorn, two
Celery workers, beat, the sandbox AWS) on a fresh PostgreSQL database and a Redis db of their own.

Daisy launches a catalog product through the API and it comes up; then, with her own sandbox keys, she opens
port 22 to the world on a security group: the call arrives as a CloudTrail file, is ingested (GET /api/events/),
and the seeded policy revokes it (GET /api/actions/); the portal's own keys then find the rule gone.
"""

import os
import re
from urllib.parse import urlsplit

import pytest
import redis

from portal import routing
from tests.integration.faults import PAYMENTS, open_port_22, world_ssh_left
from tests.integration.stack import (
    database_create,
    database_drop,
    lamp_launch,
    launch_ended,
    person_client,
    redis_db_of_its_own,
    running_stack,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    server = os.environ["DATABASE_URL"]
    database = database_create(server, urlsplit(server).path.lstrip("/") + "_production_shape")
    broker = redis_db_of_its_own(os.environ["REDIS_URL"])
    try:
        with running_stack(tmp_path_factory.mktemp("production-shape"), database_url=database,
                           broker_url=broker) as stack:
            yield stack
    finally:
        database_drop(database)
        redis.Redis.from_url(broker).flushdb()


def test_it_launches_ingests_and_remediates_over_http(stack):
    daisy, adam = stack.api("daisy"), stack.api("adam")
    launch_id = lamp_launch(daisy, "shape-web")
    launch = stack.wait(lambda: launch_ended(daisy, launch_id), timeout=120, what=f"launch {launch_id} ended")
    assert launch["status"] == "SUCCEEDED", launch
    assert launch["stack_id"] and launch["account_id"] == PAYMENTS and launch["parameters"]["DBPassword"] == "****"

    ec2 = person_client(stack, "daisy", "ec2")
    group = open_port_22(ec2, "shape")

    events = stack.wait(lambda: adam.get("/api/events/", event_name="AuthorizeSecurityGroupIngress",
                                         resource_id=group)["results"],
                        timeout=90, what=f"daisy's AuthorizeSecurityGroupIngress on {group} in /api/events/")
    assert [(e["username"], e["account_id"], e["team"]) for e in events] == [("daisy", PAYMENTS, "payments")]

    def revoked():
        runs = adam.get("/api/actions/", resource_id=group, action="revoke_world_ingress")["results"]
        return [r for r in runs if r["mode"] == "enforce" and r["status"] not in ("PENDING", "RUNNING")]

    runs = stack.wait(revoked, timeout=120, what=f"open-ssh-revoke's run on {group} finished in /api/actions/")
    assert [(r["policy"], r["status"]) for r in runs] == [("open-ssh-revoke", "SUCCEEDED")], runs
    assert "verified" in runs[0]["outcome"]["message"]
    assert world_ssh_left(stack, group) == []

    # Each task ran on the worker that takes its queue (docker-compose.yml, portal/routing.py).
    for name, queues in (("worker-fast1", routing.FAST_QUEUES), ("worker-bulk1", routing.BULK_QUEUES)):
        ran = set(re.findall(r"Task ([\w.]+)\[[0-9a-f-]+\] received", stack.processes[name].text()))
        assert ran and all(routing.queue_of(task) in queues for task in ran), (name, sorted(ran))
        # what this test's own flow certainly sent to each (beat's periodic tasks come when their interval says)
        mine = {"audit.tasks.cloudtrail_poll", "catalog.tasks.launch_provision"} if queues == routing.FAST_QUEUES \
            else {"audit.tasks.cloudtrail_ingest_file"}
        assert mine <= ran, (name, sorted(ran))


def test_the_events_process_stores_what_eventbridge_puts_on_its_queue(stack):
    """docker-compose.yml's `events` service reads the management account's guardrail-events: an event put there as
    the management kit's rule sends it is stored at once (no log file behind it), a malformed message is kept with
    its reason, and the process says after every poll that it is alive."""
    import json
    import time
    import uuid
    from datetime import UTC, datetime

    from sandbox.identity import OPERATOR_ACCESS_KEY_ID, OPERATOR_SECRET_ACCESS_KEY
    from tests.integration.stack import aws_client

    sqs = aws_client("sqs", stack.sandbox_url, key=OPERATOR_ACCESS_KEY_ID, secret=OPERATOR_SECRET_ACCESS_KEY)
    url = sqs.get_queue_url(QueueName="guardrail-events")["QueueUrl"]
    event_id = str(uuid.uuid4())
    detail = {"eventVersion": "1.08", "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{PAYMENTS}:user/daisy", "userName": "daisy",
                               "accountId": PAYMENTS},
              "eventSource": "ec2.amazonaws.com", "eventName": "CreateTags", "awsRegion": "us-east-1",
              "sourceIPAddress": "203.0.113.9", "userAgent": "integration", "requestParameters": {},
              "responseElements": None, "requestID": str(uuid.uuid4()), "eventID": event_id, "readOnly": False,
              "eventType": "AwsApiCall"}
    sent = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
        "account": PAYMENTS, "time": detail["eventTime"], "region": "us-east-1", "resources": [], "detail": detail}))
    sqs.send_message(QueueUrl=url, MessageBody="{not json")

    stored = stack.wait(lambda: stack.sql("SELECT account_id, user_name, log_file_id FROM audit_cloudtrailevent "
                                          "WHERE event_id = %s", event_id), timeout=60, what="the event stored")
    assert stored == [(PAYMENTS, "daisy", None)]
    print(f"events process: stored {time.monotonic() - sent:.2f} s after the message was sent (looked at every 0.5 s)")
    kept = stack.wait(lambda: stack.sql("SELECT reason FROM audit_eventmessage"), timeout=60, what="the bad message kept")
    assert kept[0][0].startswith("not JSON")
    [(detail_text,)] = stack.sql("SELECT detail FROM portal_heartbeat WHERE name = 'events-consumer'")
    assert "received in the last minute" in detail_text
