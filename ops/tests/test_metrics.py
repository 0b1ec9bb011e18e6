"""/metrics: Prometheus text that parses, the figures of the rows there are, and who may read it."""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from audit.models import EventHandoff
from ops import broker, selectors
from ops.services import task_run_record
from portal import filesystem_broker
from portal.celery import app as celery_app

TOKEN = "scrape-me-0123456789abcdef"


def _families(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def _value(families: dict, name: str, **labels) -> float | None:
    found = [s.value for s in families[name].samples if s.labels == labels]
    return found[0] if found else None


@pytest.fixture
def world(people):
    from audit.models import CloudTrailEvent, LogFile
    from audit.services import records_ingest
    from catalog.models import LaunchRequest, Product
    from remediation.models import ActionRun, Finding, Rule
    from triage.builtin_signatures import builtin_seed
    from triage.models import Alert, FlowLogFile, Signature

    product = Product.objects.get(name="LAMP web server")
    for i, status in enumerate(["SUCCEEDED", "SUCCEEDED", "FAILED"]):
        LaunchRequest.objects.create(product=product, version=product.versions.first(), name=f"web-{i}",
                                     owner=people.daisy, team=people.daisy.teams.get(), account_id="111111111111",
                                     region="us-east-1", status=status, idempotency_key=f"metrics-{i}")
    now = timezone.now()
    rule = Rule.objects.create(name="restricted-ssh", kind="MANAGED", source="restricted-ssh")
    Rule.objects.create(name="quiet-rule", kind="MANAGED", source="required-tags")
    for i, status in enumerate(["NON_COMPLIANT", "NON_COMPLIANT", "COMPLIANT"]):
        Finding.objects.create(rule=rule, account_id="111111111111", resource_type="AWS::EC2::SecurityGroup",
                               resource_id=f"sg-{i}", status=status, since=now, evaluated=now)
    ActionRun.objects.create(policy_version=1, mode="enforce", action="revoke_ingress", account_id="111111111111",
                             resource_type="AWS::EC2::SecurityGroup", resource_id="sg-0", reason="t",
                             dedupe_key="m1", status="SUCCEEDED")
    LogFile.objects.create(bucket="b", key="k1", status="DONE")
    LogFile.objects.create(bucket="b", key="k2", status="QUARANTINED", reason="bad gzip")
    FlowLogFile.objects.create(bucket="b", key="f1", account_id="111111111111", region="us-east-1", status="DONE")
    builtin_seed()
    signature = Signature.objects.get(name="mfa-disabled")
    for fingerprint, severity, status in [("a", "HIGH", "OPEN"), ("b", "HIGH", "ACKNOWLEDGED"),
                                          ("c", "CRITICAL", "RESOLVED")]:
        Alert.objects.create(signature=signature, fingerprint=fingerprint, severity=severity, title="t",
                             status=status, first_seen=now, last_seen=now)
    records_ingest([{"eventID": f"lag-{i}", "eventTime": "2026-01-01T00:00:00Z", "eventSource": "ec2.amazonaws.com",
                     "eventName": "RunInstances", "recipientAccountId": "111111111111"} for i in range(4)])
    stored = now - timedelta(minutes=1)
    for i, event in enumerate(CloudTrailEvent.objects.order_by("id")):
        lag = [10, 20, 40, 1000][i]
        # the last one was stored long ago: outside the 5-minute window
        ingested = stored if i < 3 else now - timedelta(hours=1)
        CloudTrailEvent.objects.filter(pk=event.pk).update(ingested=ingested,
                                                          event_time=ingested - timedelta(seconds=lag))
    return now


def test_it_reports_the_figures_of_the_rows_there_are(client, people, world):
    started = timezone.now() - timedelta(seconds=3)
    ok = task_run_record(task="audit.tasks.cloudtrail_poll", task_id="t1", request_id="", started=started,
                         duration=0.25, succeeded=True, hostname="worker@a")
    task_run_record(task="audit.tasks.cloudtrail_poll", task_id="t2", request_id="", started=started,
                    duration=1.5, succeeded=False, error="boom", hostname="worker@a")
    EventHandoff.objects.all().delete()  # the world's own ingest handed its events on (its messages never sent here)
    for consumer, status in [("triage.tasks.match_events", "PENDING"), ("triage.tasks.match_events", "PENDING"),
                             ("audit.tasks.recorder_events", "RUNNING"), ("audit.tasks.recorder_events", "SUCCEEDED")]:
        EventHandoff.objects.create(consumer=consumer, event_ids=["e"], status=status)
    client.force_login(people.admin)
    families = _families(client.get("/metrics"))

    assert _value(families, "guardrail_ingest_lag_seconds") == 20.0  # median of 10, 20, 40
    assert _value(families, "guardrail_launches", status="SUCCEEDED") == 2
    assert _value(families, "guardrail_launches", status="FAILED") == 1
    assert _value(families, "guardrail_launches", status="TERMINATED") == 0
    assert _value(families, "guardrail_findings", rule="restricted-ssh", status="NON_COMPLIANT") == 2
    assert _value(families, "guardrail_findings", rule="restricted-ssh", status="COMPLIANT") == 1
    assert _value(families, "guardrail_findings", rule="quiet-rule", status="NON_COMPLIANT") == 0
    assert _value(families, "guardrail_actions", action="revoke_ingress", status="SUCCEEDED") == 1
    assert _value(families, "guardrail_actions", action="revoke_ingress", status="FAILED") == 0
    assert _value(families, "guardrail_cloudtrail_files", status="QUARANTINED") == 1
    assert _value(families, "guardrail_cloudtrail_files", status="PENDING") == 0
    assert _value(families, "guardrail_flowlog_files", status="DONE") == 1
    assert _value(families, "guardrail_alerts_open", severity="HIGH") == 2
    assert _value(families, "guardrail_alerts_open", severity="CRITICAL") == 0
    assert _value(families, "guardrail_event_handoffs_waiting", consumer="triage.tasks.match_events",
                  status="PENDING") == 2
    assert _value(families, "guardrail_event_handoffs_waiting", consumer="audit.tasks.recorder_events",
                  status="RUNNING") == 1
    assert _value(families, "guardrail_broker_up") == 1
    assert _value(families, "guardrail_queue_depth", queue="celery") == 0
    assert _value(families, "guardrail_periodic_task_last_success_timestamp",
                  task="audit.tasks.cloudtrail_poll") == pytest.approx(ok.finished.timestamp())
    assert _value(families, "guardrail_periodic_task_last_duration_seconds", task="audit.tasks.cloudtrail_poll") == 1.5
    assert _value(families, "guardrail_periodic_task_last_success_timestamp", task="triage.tasks.alarms_evaluate") \
        is None


def test_it_has_no_lag_sample_without_recent_events(client, people):
    client.force_login(people.admin)
    families = _families(client.get("/metrics"))
    assert families["guardrail_ingest_lag_seconds"].samples == []


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_it_counts_the_messages_waiting_in_each_queue(client, people):
    celery_app.send_task("portal.tasks.worker_heartbeat")  # send_task publishes even with eager tasks
    celery_app.send_task("audit.tasks.cloudtrail_poll")
    try:
        depths = selectors.queue_depths()
        assert depths == {"celery": 1, "intake": 1, "files": 0, "launches": 0, "recorder": 0, "remediation": 0}
        client.force_login(people.admin)
        families = _families(client.get("/metrics"))
        assert _value(families, "guardrail_queue_depth", queue="celery") == 1
        assert _value(families, "guardrail_queue_depth", queue="intake") == 1
        assert _value(families, "guardrail_queue_oldest_message_age_seconds", queue="files") == 0  # none waits
        # The in-memory broker cannot say how long a message has waited: no figure rather than a wrong one.
        assert _value(families, "guardrail_queue_oldest_message_age_seconds", queue="intake") is None
    finally:
        with celery_app.connection_for_write() as conn:
            for queue in ("celery", "intake"):
                conn.default_channel.queue_purge(queue)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
@pytest.mark.parametrize("transport", [filesystem_broker.TRANSPORT, "filesystem"])  # ours, kombu's
def test_it_counts_the_message_files_of_the_filesystem_broker_and_times_the_oldest(tmp_path, transport):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://localhost/", transport=transport, transport_options=options) as conn:
        celery_app.send_task("audit.tasks.cloudtrail_ingest_file", args=["1", "b", "k1"], connection=conn)
        stamped = time.time()
        time.sleep(0.01)  # the file names order messages by the millisecond
        celery_app.send_task("audit.tasks.cloudtrail_ingest_file", args=["1", "b", "k2"], connection=conn)
        celery_app.send_task("remediation.tasks.action_chain", args=[1], connection=conn)
        conn.SimpleQueue("elsewhere").put({"n": 3})
        states = broker.queue_states(conn.default_channel, ["files", "remediation", "intake"], now=stamped + 30)
        assert {q: s.depth for q, s in states.items()} == {"files": 2, "remediation": 1, "intake": 0}
        assert states["files"].oldest_seconds == pytest.approx(30, abs=0.01)  # the first one's stamp
        assert states["intake"].oldest_seconds is None
        assert selectors.queue_depths(connection=conn)["files"] == 2


def test_a_filesystem_message_without_its_stamp_is_timed_by_its_file(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://localhost/", transport_options=options) as conn:
        conn.SimpleQueue("files").put({"n": 1})  # published before the stamp existed
        (message,) = tmp_path.iterdir()
        os.utime(message, (1_000_000, 1_000_000))
        states = broker.queue_states(conn.default_channel, ["files"], now=1_000_042)
        assert (states["files"].depth, states["files"].oldest_seconds) == (1, 42)


def test_it_says_the_broker_is_down_rather_than_failing(client, people, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_read_url", "redis://127.0.0.1:9/0")  # nothing listens there
    client.force_login(people.admin)
    families = _families(client.get("/metrics"))
    assert _value(families, "guardrail_broker_up") == 0
    assert families["guardrail_queue_depth"].samples == []


def test_it_asks_anonymous_callers_to_authenticate(client, db):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_it_refuses_people_who_are_not_admins(client, people):
    for user in (people.daisy, people.auditor):
        client.force_login(user)
        assert client.get("/metrics").status_code == 403


def test_it_takes_an_admins_api_token_but_not_a_developers(client, people):
    _, admin_token = AuthToken.objects.create(people.admin)
    _, daisy_token = AuthToken.objects.create(people.daisy)
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {admin_token}").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {daisy_token}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_it_takes_the_metrics_token_as_a_bearer_token(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 401


def test_it_takes_no_bearer_token_when_none_is_set(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 401


def test_it_never_logs_the_token(client, db, settings, caplog):
    settings.METRICS_TOKEN = TOKEN
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    assert TOKEN not in caplog.text and "wrong" not in caplog.text
