"""CloudTrail files in, events out: the sandbox's own files through S3 → SQS → worker, real samples, bad files."""

import gzip
import io
import json
from pathlib import Path

import pytest

from audit.models import CloudTrailEvent, LogFile, LogFileStatus
from audit.services import logfile_claim, logfile_ingest, records_ingest
from audit.tasks import cloudtrail_poll
from conftest import SAMPLES

STRATUS = sorted((Path(SAMPLES) / "cloudtrail" / "stratus-red-team").glob("*.json"))
KEY = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/28/111111111111_CloudTrail_us-east-1_20261128T1200Z_{}.json.gz"


def _gz(payload) -> bytes:
    return gzip.compress(json.dumps(payload).encode())


def _ingest(name: str, body: bytes) -> LogFile:
    log_file = logfile_claim(bucket="guardrail-cloudtrail-111111111111", key=KEY.format(name))
    return logfile_ingest(log_file=log_file, stream=io.BytesIO(body))


@pytest.mark.skipif(not STRATUS, reason="the shared CloudTrail samples are absent here")
def test_it_stores_every_real_sample_record_once(people):
    records = [r for path in STRATUS for r in json.loads(path.read_text())]
    first = records_ingest(records)
    assert first["bad"] == 0, first["bad_reasons"]
    assert first["stored"] == len({r["eventID"] for r in records}) == CloudTrailEvent.objects.count()
    again = records_ingest(records)
    assert again["stored"] == 0 and again["duplicates"] == len(records)
    ingress = CloudTrailEvent.objects.filter(event_name="AuthorizeSecurityGroupIngress").first()
    assert ingress.resources.filter(resource_type="AWS::EC2::SecurityGroup").exists()


def test_it_ingests_the_sandboxs_files_through_s3_and_sqs(people, sandbox):
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import as_person

    bootstrap_from_portal()
    ec2 = as_person("daisy")("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    sandbox.flush()
    assert cloudtrail_poll() >= 1
    event = CloudTrailEvent.objects.get(event_name="AuthorizeSecurityGroupIngress", user_name="daisy")
    assert event.team.slug == "payments" and event.person == people.daisy
    assert event.account_id == "111111111111" and event.identity_type == "IAMUser"
    assert list(event.resources.values_list("resource_id", flat=True)) == [group]
    assert LogFile.objects.filter(status=LogFileStatus.DONE).count() >= 1
    # Redelivery of every file: nothing is stored twice.
    before = CloudTrailEvent.objects.count()
    for log_file in LogFile.objects.all():
        LogFile.objects.filter(pk=log_file.pk).update(status=LogFileStatus.PENDING)
        from audit.tasks import cloudtrail_ingest_file

        cloudtrail_ingest_file(log_file.account_id, log_file.bucket, log_file.key)
    assert CloudTrailEvent.objects.count() == before


def _record(event_id: str, **extra) -> dict:
    return {"eventVersion": "1.08", "eventID": event_id, "eventTime": "2026-11-28T12:00:00Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
            "recipientAccountId": "111111111111", "userIdentity": {"type": "IAMUser", "userName": "daisy",
                                                                   "accountId": "111111111111"}, **extra}


def test_it_stores_a_record_present_in_two_files_once(people):
    _ingest("a", _gz({"Records": [_record("e-1"), _record("e-2")]}))
    second = _ingest("b", _gz({"Records": [_record("e-2"), _record("e-3")]}))
    assert second.records == 1 and second.duplicates == 1
    assert CloudTrailEvent.objects.count() == 3


BIG = _gz({"Records": [_record(f"t-{i}", requestParameters={"pad": "x" * 200 + str(i)}) for i in range(3000)]})


@pytest.mark.parametrize(("body", "reason", "kept"), [
    (BIG[: len(BIG) // 2], "truncated", {"t-0", "t-1"}),
    (gzip.compress(b"this is not json"), "JSON", set()),
    (_gz({"Records": [_record("m-1"), {"eventName": "NoId"}]}), "could not be read", {"m-1"}),
])
def test_it_quarantines_a_bad_file_and_keeps_its_good_records(people, body, reason, kept):
    log_file = _ingest("bad", body)
    assert log_file.status == LogFileStatus.QUARANTINED
    assert reason.lower() in log_file.reason.lower()
    assert kept <= set(CloudTrailEvent.objects.values_list("event_id", flat=True))


def test_it_quarantines_a_key_outside_the_layout(people):
    log_file = logfile_claim(bucket="b", key="somewhere/else.json.gz")
    log_file = logfile_ingest(log_file=log_file, stream=io.BytesIO(_gz({"Records": [_record("x-1")]})))
    assert log_file.status == LogFileStatus.QUARANTINED and "layout" in log_file.reason
    assert not CloudTrailEvent.objects.exists()


STREAMALERT = sorted((Path(SAMPLES) / "cloudtrail" / "streamalert-rule-tests").glob("*.json"))


@pytest.mark.skipif(not STREAMALERT, reason="the shared StreamAlert samples are absent here")
def test_it_stores_the_streamalert_cases_and_counts_the_unreadable_ones(people):
    from audit.cloudtrail.records import unwrap_all

    records = [r for path in STREAMALERT for case in json.loads(path.read_text()) for r in unwrap_all(case["data"])]
    counts = records_ingest(records)
    readable = {r.get("eventID") for r in records if r.get("eventID") and r.get("eventTime") not in (None, "...")}
    assert counts["stored"] == len(readable) == CloudTrailEvent.objects.count()
    assert counts["bad"] == 13  # 11 with a placeholder eventTime "...", 2 without an eventID
    assert any("eventTime" in reason for reason in counts["bad_reasons"])


def test_it_answers_filtered_history_queries_from_indexes(people):
    from django.db import connection

    from audit import selectors

    queries = {
        "event_user_time_idx": {"username": "daisy"},
        "event_account_time_idx": {"account_id": "111111111111"},
        "event_name_time_idx": {"event_name": "RunInstances"},
    }
    for index, params in queries.items():
        sql, args = selectors.events_filter(CloudTrailEvent.objects.all(), params).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}" if connection.vendor == "sqlite" else f"EXPLAIN {sql}", args)
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert index in plan, plan
