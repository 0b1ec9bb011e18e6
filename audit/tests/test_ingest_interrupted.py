"""AWS out of reach while a CloudTrail file is read: the file goes back to PENDING and is read again; a file whose
message was lost is sent again by the reconciler. Nothing lost, nothing stored twice."""

import gzip
import io
import json
from datetime import timedelta

import pytest
from botocore.exceptions import ResponseStreamingError
from django.utils import timezone

from audit import cloudtrail_delivery
from audit.models import CloudTrailEvent, LogFile, LogFileStatus
from audit.tasks import cloudtrail_ingest_file
from portal.tasks import runs_reconcile

BUCKET = "guardrail-cloudtrail-111111111111"
KEY = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/28/111111111111_CloudTrail_us-east-1_20261128T1200Z_{}.json.gz"


def _body(n: int) -> bytes:
    return gzip.compress(json.dumps({"Records": [
        {"eventVersion": "1.08", "eventID": f"cut-{i}", "eventTime": "2026-11-28T12:00:00Z",
         "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
         "recipientAccountId": "111111111111", "userIdentity": {"type": "IAMUser", "userName": "daisy"},
         "requestParameters": {"pad": "x" * 300 + str(i)}} for i in range(n)]}).encode())


class _BreaksAfter(io.BytesIO):
    """The object's body, as a connection that breaks after `limit` bytes."""

    def __init__(self, body: bytes, limit: int) -> None:
        super().__init__(body)
        self.limit = limit

    def read(self, size: int = -1) -> bytes:
        if self.tell() >= self.limit:
            raise ResponseStreamingError(error="Connection broken: the endpoint went away")
        return super().read(min(size, self.limit - self.tell()) if size and size > 0 else self.limit - self.tell())


def test_it_reads_a_file_again_when_the_connection_breaks_mid_file(people, monkeypatch):
    body = _body(3000)
    opened = []

    def open_object(**kwargs):
        opened.append(kwargs["key"])
        return _BreaksAfter(body, len(body) // 2) if len(opened) == 1 else io.BytesIO(body)

    monkeypatch.setattr(cloudtrail_delivery, "open_object", open_object)
    with pytest.raises(ResponseStreamingError):  # in a worker, autoretry sends it again with a backoff
        cloudtrail_ingest_file("111111111111", BUCKET, KEY.format("cut"))
    log_file = LogFile.objects.get(key=KEY.format("cut"))
    assert log_file.status == LogFileStatus.PENDING and "could not be reached" in log_file.reason
    assert 0 < CloudTrailEvent.objects.count() < 3000
    cloudtrail_ingest_file("111111111111", BUCKET, KEY.format("cut"))
    log_file.refresh_from_db()
    assert (log_file.status, log_file.attempts, len(opened)) == (LogFileStatus.DONE, 2, 2)
    assert 0 < log_file.duplicates < 3000 and log_file.records + log_file.duplicates == 3000
    assert CloudTrailEvent.objects.count() == 3000


def test_the_reconciler_sends_again_a_file_whose_message_was_lost(people, monkeypatch):
    monkeypatch.setattr(cloudtrail_delivery, "open_object", lambda **kwargs: io.BytesIO(_body(10)))
    LogFile.objects.create(bucket=BUCKET, key=KEY.format("lost"), account_id="111111111111")
    LogFile.objects.filter(key=KEY.format("lost")).update(updated=timezone.now() - timedelta(minutes=10))
    assert runs_reconcile() == 1
    assert LogFile.objects.get(key=KEY.format("lost")).status == LogFileStatus.DONE
    assert CloudTrailEvent.objects.count() == 10
    assert runs_reconcile() == 0
