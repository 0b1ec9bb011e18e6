import datetime as dt
import gzip
import io

import pytest

from triage.flowlogs.parse import (
    HEADER,
    MAX_EXAMPLES,
    FlowLogKey,
    FlowRecord,
    ParseStats,
    file_key,
    iter_records,
    parse_file,
    parse_key,
    parse_lines,
    render_file,
)

ROWS = [
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
    "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
]
EXPECTED = [
    FlowRecord("123456789010", "eni-1235b8ca123456789", "172.31.16.139", "172.31.16.21", 20641, 22, 6, 20, 4249,
               1418530010, 1418530070, "ACCEPT"),
    FlowRecord("123456789010", "eni-1235b8ca123456789", "172.31.9.69", "172.31.9.12", 49761, 3389, 6, 20, 4249,
               1418530010, 1418530070, "REJECT"),
    FlowRecord("123456789010", "eni-1235b8ca123456789", "2001:db8:1234:a100:8d6e:3477:df66:f105",
               "2001:db8:1234:a102:3304:8879:34cf:4071", 34892, 22, 6, 54, 8855, 1477913708, 1477913820, "ACCEPT"),
]
NODATA = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
SKIPDATA = "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA"


def _parse(lines):
    stats = ParseStats()
    return list(parse_lines(lines, stats)), stats


def test_it_reads_the_default_format_with_its_header():
    records, stats = _parse([HEADER, *ROWS])
    assert records == EXPECTED
    assert stats.records == 3 and stats.malformed == 0
    assert stats.header == tuple(HEADER.split())
    r = records[0]
    assert isinstance(r.srcport, int) and isinstance(r.start, int) and r.action == "ACCEPT"


def test_it_reads_the_default_order_without_a_header():
    records, stats = _parse(ROWS)
    assert records == EXPECTED and stats.header is None


def test_it_maps_a_custom_format_by_field_name():
    header = ("version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport "
              "dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status")
    row = ("3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 "
           "123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 "
           "1566848875 1566848933 ACCEPT 2 OK")
    records, stats = _parse([header, row])
    assert records == [FlowRecord("123456789010", "eni-1235b8ca123456789", "52.213.180.42", "10.0.0.62",
                                  43416, 5001, 6, 8, 568, 1566848875, 1566848933, "ACCEPT")]
    assert stats.header[1] == "vpc-id"


def test_a_custom_format_may_leave_out_the_optional_fields():
    records, _ = _parse(["srcaddr dstaddr dstport srcport action start", "10.0.0.1 10.0.0.2 443 50000 REJECT 1700000000"])
    assert records == [FlowRecord("", "", "10.0.0.1", "10.0.0.2", 50000, 443, 0, 0, 0, 1700000000, 1700000000, "REJECT")]


def test_a_header_without_the_fields_detection_needs_is_refused():
    with pytest.raises(ValueError, match="srcport"):
        _parse(["version account-id srcaddr dstaddr dstport start action", "2 1 a b 1 2 ACCEPT"])


def test_nodata_and_skipdata_rows_are_counted_not_returned():
    records, stats = _parse([HEADER, ROWS[0], NODATA, SKIPDATA, NODATA, ROWS[1]])
    assert records == EXPECTED[:2]
    assert (stats.records, stats.nodata, stats.skipdata, stats.malformed) == (2, 2, 1, 0)


def test_malformed_rows_are_skipped_and_counted_with_their_line_numbers():
    bad = [
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1418530010 1418530070 ACCEPT",  # 13 fields
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 x 2 6 1 1 1418530010 1418530070 ACCEPT OK",  # not a number
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1418530010 1418530070 ALLOW OK",  # action
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 70000 6 1 1 1418530010 1418530070 ACCEPT OK",  # port
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1418530010 1418530070 ACCEPT WEIRD",  # status
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1418530010.5 1418530070 ACCEPT OK",  # float
        "garbage",
    ]
    records, stats = _parse([HEADER, ROWS[0], *bad, ROWS[1]])
    assert records == EXPECTED[:2]
    assert stats.malformed == len(bad) and stats.records == 2
    assert len(stats.malformed_examples) == MAX_EXAMPLES
    assert [n for n, _ in stats.malformed_examples] == [3, 4, 5, 6, 7]  # the header is line 1
    reasons = " | ".join(r for _, r in stats.malformed_examples)
    for word in ("expected 14 fields, got 13", "not a number", "unknown action 'ALLOW'", "port out of range",
                 "unknown log-status 'WEIRD'"):
        assert word in reasons


def test_blank_lines_crlf_and_a_repeated_header_are_harmless():
    lines = ["", HEADER + "\r\n", ROWS[0] + "\r\n", "   ", HEADER, ROWS[1] + "\n"]
    records, stats = _parse(lines)
    assert records == EXPECTED[:2] and stats.malformed == 0


def test_dash_ports_on_an_ok_row_read_as_zero():
    records, stats = _parse([HEADER, "2 123456789010 eni-1 10.0.0.1 10.0.0.2 - - 1 1 84 1418530010 1418530070 ACCEPT OK"])
    assert stats.malformed == 0
    assert (records[0].srcport, records[0].dstport, records[0].protocol) == (0, 0, 1)


def test_gzip_and_plain_files_read_the_same():
    text = "\n".join([HEADER, *ROWS, NODATA]) + "\n"
    for body in (gzip.compress(text.encode()), text.encode()):
        records, stats = parse_file(body)
        assert records == EXPECTED and stats.nodata == 1
    with pytest.raises(ValueError, match="gzip"):
        parse_file(gzip.compress(text.encode())[:-20])


def test_iter_records_streams_a_file_object():
    text = "\n".join([HEADER, *ROWS]) + "\n"
    for body in (gzip.compress(text.encode()), text.encode()):
        stats = ParseStats()
        assert list(iter_records(io.BytesIO(body), stats)) == EXPECTED
        assert stats.records == 3


def test_render_then_parse_is_the_identity():
    body = render_file(EXPECTED, nodata_interfaces=["eni-0aaa", "eni-0bbb"])
    assert gzip.decompress(body).decode().splitlines()[0] == HEADER
    records, stats = parse_file(body)
    assert records == EXPECTED
    assert (stats.nodata, stats.malformed) == (2, 0)
    nodata = gzip.decompress(body).decode().splitlines()[-1].split()
    assert nodata == ["2", "123456789010", "eni-0bbb", *["-"] * 7, "1418530010", "1477913820", "-", "NODATA"]
    assert render_file(EXPECTED) == render_file(EXPECTED)  # no timestamp in the gzip header


KEY = ("AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/08/01/"
       "123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20240801T1205Z_fe123456.log.gz")


def test_it_parses_flow_log_keys():
    k = parse_key("my-bucket-prefix/" + KEY)
    assert k == FlowLogKey(account="123456789012", region="eu-west-1", date=dt.date(2024, 8, 1),
                           flow_log_id="fl-0123456789abcdef0",
                           timestamp=dt.datetime(2024, 8, 1, 12, 5, tzinfo=dt.UTC),
                           prefix="my-bucket-prefix", filename=KEY.rsplit("/", 1)[1])
    assert parse_key(KEY).prefix == ""
    hive = ("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
            "year=2024/month=08/day=01/hour=12/" + KEY.rsplit("/", 1)[1])
    assert parse_key(hive).flow_log_id == "fl-0123456789abcdef0"
    hourly = KEY.replace("/01/123456789012_", "/01/12/123456789012_")
    assert parse_key(hourly).date == dt.date(2024, 8, 1)


@pytest.mark.parametrize("key", [
    "",
    "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/08/01/123456789012_CloudTrail_eu-west-1_x.json.gz",
    KEY.replace(".log.gz", ".log.parquet"),
    KEY.replace("/2024/08/01/", "/2024/13/01/"),
    KEY.replace("vpcflowlogs_eu-west-1", "vpcflowlogs_us-east-1"),  # region in the name differs
    KEY.replace("123456789012_vpcflowlogs", "999999999999_vpcflowlogs"),  # account differs
    KEY.rsplit("/", 1)[0] + "/",
])
def test_other_keys_are_not_flow_log_files(key):
    assert parse_key(key) is None


def test_file_key_round_trips_through_parse_key():
    when = dt.datetime(2024, 8, 1, 12, 5, 33)
    key = file_key("123456789012", "eu-west-1", "fl-0123456789abcdef0", when, prefix="logs")
    assert key.startswith("logs/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/08/01/")
    assert key == file_key("123456789012", "eu-west-1", "fl-0123456789abcdef0", when, prefix="logs/")
    k = parse_key(key)
    assert (k.account, k.region, k.flow_log_id, k.prefix) == ("123456789012", "eu-west-1", "fl-0123456789abcdef0", "logs")
    assert k.timestamp == dt.datetime(2024, 8, 1, 12, 5, tzinfo=dt.UTC)
    aware = dt.datetime(2024, 8, 1, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert file_key("123456789012", "eu-west-1", "fl-1", aware, digest="abcd0123").endswith("_20240801T1205Z_abcd0123.log.gz")
