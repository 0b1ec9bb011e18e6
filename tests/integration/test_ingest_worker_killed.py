"""A worker SIGKILLed in the middle of a CloudTrail file: the file is ingested again, nothing lost or doubled."""

import gzip
import json
import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import CloudTrailEvent, LogFile, LogFileStatus
from audit.tasks import cloudtrail_ingest_file
from portal.tasks import runs_reconcile
from sandbox.testing import kit, operator_clients
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration
ACCOUNT = "123456789012"
BUCKET = "trail-for-fault-test"
KEY = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/28/{ACCOUNT}_CloudTrail_us-east-1_20261128T1200Z_kill.json.gz"
RECORDS = 40_000


def _big_file() -> bytes:
    records = [{"eventVersion": "1.08", "eventID": f"kill-{i}", "eventTime": "2026-11-28T12:00:00Z",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
                "recipientAccountId": ACCOUNT, "userIdentity": {"type": "IAMUser", "userName": "daisy"},
                "requestParameters": {"instancesSet": {"items": [{"instanceId": f"i-{i:017x}"}]}}}
               for i in range(RECORDS)]
    return gzip.compress(json.dumps({"Records": records}).encode())


def test_it_loses_and_doubles_nothing_when_a_worker_dies_mid_file(sandbox, workers):
    kit(ACCOUNT)  # the worker reads the file as the portal's role there
    s3 = operator_clients(ACCOUNT)("s3")  # the file, as CloudTrail would have written it
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=_big_file())
    first = workers("doomed")
    cloudtrail_ingest_file.delay(ACCOUNT, BUCKET, KEY)
    assert wait_for(lambda: CloudTrailEvent.objects.count() >= 1000, timeout=120), "the worker never started"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    stored_when_killed = CloudTrailEvent.objects.count()
    assert stored_when_killed < RECORDS, "the worker finished before it could be killed"
    assert LogFile.objects.get(key=KEY).status == LogFileStatus.INGESTING

    workers("rescuer")
    LogFile.objects.filter(key=KEY).update(updated=timezone.now() - timedelta(minutes=10))
    assert runs_reconcile() == 1
    assert wait_for(lambda: LogFile.objects.get(key=KEY).status == LogFileStatus.DONE, timeout=180)
    assert CloudTrailEvent.objects.count() == RECORDS
    log_file = LogFile.objects.get(key=KEY)
    assert log_file.records + log_file.duplicates == RECORDS and log_file.duplicates >= stored_when_killed - 500
