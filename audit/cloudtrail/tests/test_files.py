import datetime as dt
import gzip
import io
import json
import tracemalloc

import pytest

from audit.cloudtrail.files import BadLogFile, LogKey, iter_records, parse_key


def _record(i):
    return {
        "eventVersion": "1.09",
        "eventID": f"00000000-0000-0000-0000-{i:012d}",
        "eventTime": "2024-08-01T12:23:55Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "eu-west-1",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "userName": f"user{i % 7}",
                         "arn": f"arn:aws:iam::111122223333:user/user{i % 7}"},
        "requestParameters": {"instancesSet": {"items": [{"instanceId": f"i-{i:017x}"}]}},
        "responseElements": None,
        "userAgent": "aws-cli/2.0 " + "x" * 200,
    }


RECORDS = [_record(i) for i in range(5)]


def _read(data: bytes):
    return list(iter_records(io.BytesIO(data)))


def test_it_reads_gzip_records_object():
    data = gzip.compress(json.dumps({"Records": RECORDS}).encode())
    assert _read(data) == RECORDS


def test_it_reads_plain_array_and_plain_records_object():
    assert _read(json.dumps(RECORDS).encode()) == RECORDS
    assert _read(b"\n  " + json.dumps({"Records": RECORDS}, indent=2).encode()) == RECORDS
    assert _read(gzip.compress(json.dumps(RECORDS).encode())) == RECORDS


def test_it_reads_json_lines():
    data = "\n".join(json.dumps(r) for r in RECORDS).encode() + b"\n"
    assert _read(data) == RECORDS
    assert _read(gzip.compress(data)) == RECORDS


def test_it_reads_records_object_whose_records_key_is_not_first():
    data = json.dumps({"Meta": 1, "Records": RECORDS}).encode()
    assert _read(data) == RECORDS


def test_it_reads_from_a_non_seekable_stream():
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self._buf = io.BytesIO(data)

        def readable(self):
            return True

        def read(self, n=-1):
            return self._buf.read(min(n, 1000) if n and n > 0 else n)

        def seekable(self):
            return False

    data = gzip.compress(json.dumps({"Records": RECORDS}).encode())
    assert list(iter_records(Pipe(data))) == RECORDS


def _small_record(i):
    # few keys (tracemalloc slows every allocation) but ~600 bytes each
    return {"eventID": f"id-{i:08d}", "eventName": "DescribeInstances",
            "eventTime": "2024-08-01T12:23:55Z", "userAgent": "x" * 550}


def test_it_streams_a_large_file_with_bounded_memory(tmp_path):
    n = 50_000
    path = tmp_path / "big.json.gz"
    uncompressed_size = 0
    with gzip.open(path, "wb", compresslevel=1) as fh:
        parts = [b'{"Records": [']
        for i in range(n):
            parts.append((b"," if i else b"") + json.dumps(_small_record(i)).encode())
            if len(parts) >= 1000:
                chunk = b"".join(parts)
                uncompressed_size += len(chunk)
                fh.write(chunk)
                parts = []
        parts.append(b"]}")
        chunk = b"".join(parts)
        uncompressed_size += len(chunk)
        fh.write(chunk)

    tracemalloc.start()
    try:
        count = 0
        last = None
        with path.open("rb") as fh:
            for rec in iter_records(fh):
                count += 1
                last = rec
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert last["eventID"] == f"id-{n - 1:08d}"
    assert uncompressed_size > 20_000_000
    assert peak < uncompressed_size / 20, (peak, uncompressed_size)


def test_it_yields_good_records_before_a_truncated_gzip():
    records = [_record(i) for i in range(3000)]
    data = gzip.compress(json.dumps({"Records": records}).encode())
    cut = data[: len(data) // 2]
    got = []
    with pytest.raises(BadLogFile) as err:
        for rec in iter_records(io.BytesIO(cut)):
            got.append(rec)
    assert err.value.reason.startswith("truncated gzip:")
    assert 0 < len(got) < len(records)
    assert got == records[: len(got)]


def test_it_rejects_corrupt_gzip():
    with pytest.raises(BadLogFile, match="corrupt gzip"):
        _read(b"\x1f\x8b" + b"garbage" * 10)


def test_it_yields_good_records_before_truncated_plain_json():
    data = json.dumps({"Records": RECORDS}).encode()[:-40]
    got = []
    with pytest.raises(BadLogFile, match="truncated JSON"):
        for rec in iter_records(io.BytesIO(data)):
            got.append(rec)
    assert got == RECORDS[: len(got)] and got


@pytest.mark.parametrize("data", [b"hello world", b"<html></html>", b"\x00\x01\x02",
                                  gzip.compress(b"not json at all")])
def test_it_rejects_not_json(data):
    with pytest.raises(BadLogFile, match="^not JSON"):
        _read(data)


def test_it_rejects_invalid_json_after_good_records():
    data = b'[' + json.dumps(RECORDS[0]).encode() + b', nope]'
    got = []
    with pytest.raises(BadLogFile, match="^not JSON"):
        for rec in iter_records(io.BytesIO(data)):
            got.append(rec)
    assert got == [RECORDS[0]]


@pytest.mark.parametrize("data", [b'"a string"', b"42", b"null", b'{"Records": {"a": 1}}',
                                  b'{"a": 1}\n[1, 2]'])
def test_it_rejects_wrong_top_level(data):
    with pytest.raises(BadLogFile, match="neither a Records object nor an array|Records is not an array"):
        _read(data)


def test_it_rejects_records_that_are_not_objects():
    got = []
    with pytest.raises(BadLogFile, match="record 1 is not an object"):
        for rec in iter_records(io.BytesIO(json.dumps({"Records": [RECORDS[0], 5]}).encode())):
            got.append(rec)
    assert got == [RECORDS[0]]
    with pytest.raises(BadLogFile, match="record 0 is not an object"):
        _read(b'["x"]')


def test_it_rejects_empty_file_and_accepts_empty_records():
    with pytest.raises(BadLogFile, match="empty"):
        _read(b"")
    with pytest.raises(BadLogFile, match="empty"):
        _read(gzip.compress(b"  \n"))
    assert _read(gzip.compress(b'{"Records": []}')) == []
    assert _read(b"[]") == []


def test_it_parses_real_looking_keys():
    key = ("AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/"
           "111122223333_CloudTrail_eu-west-1_20240801T1225Z_AbCdEfGh12345678.json.gz")
    assert parse_key(key) == LogKey(
        account_id="111122223333", region="eu-west-1", date=dt.date(2024, 8, 1), org_id=None,
        prefix="", filename="111122223333_CloudTrail_eu-west-1_20240801T1225Z_AbCdEfGh12345678.json.gz",
    )


def test_it_parses_keys_with_org_id_and_prefix():
    k = parse_key("logs/ct/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-gov-west-1/"
                  "2023/12/31/111122223333_CloudTrail_us-gov-west-1_20231231T2355Z_x.json.gz")
    assert (k.account_id, k.region, k.date, k.org_id, k.prefix) == (
        "111122223333", "us-gov-west-1", dt.date(2023, 12, 31), "o-a1b2c3d4e5", "logs/ct")
    k = parse_key("p/AWSLogs/111122223333/CloudTrail/ap-southeast-2/2024/02/29/f.json.gz")
    assert (k.prefix, k.org_id, k.date) == ("p", None, dt.date(2024, 2, 29))


@pytest.mark.parametrize("key", [
    "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/08/01/"
    "111122223333_CloudTrail-Digest_eu-west-1_t_20240801T122500Z.json.gz",
    "AWSLogs/111122223333/CloudTrail-Insight/eu-west-1/2024/08/01/f.json.gz",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/f.json",
    "AWSLogs/11112222333/CloudTrail/eu-west-1/2024/08/01/f.json.gz",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/13/01/f.json.gz",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/02/29/f.json.gz",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/extra/f.json.gz",
    "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/08/01/f.log.gz",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/f.json.gz/",
    "AWSLogs/o-bad/111122223333/CloudTrail/eu-west-1/2024/08/01/f.json.gz",
    "",
    "random/file.json.gz",
])
def test_it_rejects_keys_outside_the_layout(key):
    assert parse_key(key) is None
