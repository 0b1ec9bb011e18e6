"""`manage.py ingest_cloudtrail`: a local folder of samples, and s3://bucket/prefix from the sandbox."""

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit.models import CloudTrailEvent, LogFile
from conftest import SAMPLES
from sandbox.operator import operator_client
from sandbox.testing import kit

STRATUS = Path(SAMPLES) / "cloudtrail" / "stratus-red-team"


@pytest.mark.skipif(not STRATUS.exists(), reason=f"the shared CloudTrail samples are absent here ({STRATUS})")
def test_it_backfills_a_local_folder_of_json_and_gzip(people, tmp_path):
    files = sorted(STRATUS.glob("*.json"))[:6]
    for i, path in enumerate(files):
        if i % 2:
            (tmp_path / f"{path.name}.gz").write_bytes(gzip.compress(path.read_bytes()))
        else:
            shutil.copy(path, tmp_path / path.name)
    out = io.StringIO()
    call_command("ingest_cloudtrail", str(tmp_path), stdout=out)
    expected = {r["eventID"] for path in files for r in json.loads(path.read_text())}
    assert set(CloudTrailEvent.objects.values_list("event_id", flat=True)) == expected
    assert "6/6 files" in out.getvalue() and f"{len(expected)} record(s) stored" in out.getvalue()


def test_it_backfills_from_s3_within_the_dates(people, sandbox):
    kit(settings.AWS_MANAGEMENT_ACCOUNT_ID)  # the command reads as the portal's role there
    s3 = operator_client("s3", settings.AWS_MANAGEMENT_ACCOUNT_ID)  # an old trail's files, kept by the platform team
    s3.create_bucket(Bucket="old-trail")
    for day in ("01", "02", "03"):
        record = {"eventID": f"day-{day}", "eventTime": f"2026-11-{day}T10:00:00Z", "eventName": "ListBuckets",
                  "eventSource": "s3.amazonaws.com", "recipientAccountId": "111111111111", "userIdentity": {}}
        key = f"AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/{day}/f_{day}.json.gz"
        s3.put_object(Bucket="old-trail", Key=key, Body=gzip.compress(json.dumps({"Records": [record]}).encode()))
    call_command("ingest_cloudtrail", "s3://old-trail/AWSLogs/", "--since", "2026-11-02", "--until", "2026-11-03",
                 stdout=io.StringIO())
    assert set(CloudTrailEvent.objects.values_list("event_id", flat=True)) == {"day-02", "day-03"}
    assert LogFile.objects.count() == 2


def test_it_names_a_bad_source(people):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("ingest_cloudtrail", "/no/such/folder", stdout=io.StringIO())
