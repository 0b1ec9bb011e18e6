"""VPC flow-log files: one per flow log and flush, in AWS's key layout, with the demo attacks now and then."""

import datetime
import time

import pytest
from django.conf import settings
from moto.ec2.models import ec2_backends
from moto.s3.models import s3_backends

from sandbox import flowtraffic
from sandbox.bootstrap import AccountSpec, BootstrapSummary, _Clients
from sandbox.demo import ensure_demo_network, flowlog_bucket
from sandbox.flowtraffic import BRUTE_FORCE_IP, SCANNER_IP, FlowLogWriter
from sandbox.testing import member, operator_clients
from triage.flowlogs.detect import detect
from triage.flowlogs.parse import V2_FIELDS, parse_file, parse_key

PAYMENTS, RESEARCH = "111111111111", "222222222222"
REGION = settings.AWS_DEFAULT_REGION
NOW = datetime.datetime(2025, 3, 14, 9, 26, 53, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


def _network(*accounts: str) -> None:
    """The demo network, made by each account's administrator (the accounts are members of the organisation)."""
    member(*accounts)
    clients = _Clients({})
    for acct in accounts:
        ensure_demo_network(AccountSpec(acct, settings.AWS_PORTAL_ROLE_NAME, team="payments"), BootstrapSummary(),
                            clients)


def _read(bucket: str, key: str):
    owner_partition, owner = s3_backends.bucket_accounts[bucket]
    body = s3_backends[owner][owner_partition].get_object(bucket, key).value
    records, stats = parse_file(body)
    assert stats.malformed == 0 and stats.header == V2_FIELDS
    return records, stats


def _kinds(records) -> set[tuple[str, str]]:
    return {(d.kind, d.source) for d in detect(records)}


def test_it_writes_one_file_per_flow_log_with_the_attacks_first(sandbox):
    _network(PAYMENTS)
    ec2 = operator_clients(PAYMENTS)("ec2")
    [flow_log] = ec2.describe_flow_logs()["FlowLogs"]
    [subnet] = ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.20.1.0/24"]}])["Subnets"]
    idle = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
    web = {{t["Key"]: t["Value"] for t in i["Tags"]}["Name"]: i["PrivateIpAddress"]
           for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}

    [(bucket, key)] = sandbox.flowlogs.flush(NOW)
    [(bucket2, key2)] = sandbox.flowlogs.flush(NOW + MINUTE)
    assert bucket == bucket2 == flowlog_bucket(PAYMENTS)
    assert list(sandbox.flowlogs.delivered) == [(bucket, key), (bucket2, key2)]
    place = parse_key(key)
    assert (place.account, place.region, place.flow_log_id, place.timestamp) == (
        PAYMENTS, REGION, flow_log["FlowLogId"], NOW.replace(second=0))
    assert parse_key(key2).timestamp == (NOW + MINUTE).replace(second=0)

    first, stats = _read(bucket, key)
    assert stats.nodata == 1  # the interface no instance uses
    start, end = int(NOW.timestamp()) - 60, int(NOW.timestamp())
    assert all(start <= r.start <= r.end <= end for r in first)
    assert idle not in {r.interface_id for r in first}
    scan = [r for r in first if r.srcaddr == SCANNER_IP]
    assert len({r.dstport for r in scan}) == 150 and {r.dstaddr for r in scan} == {web["demo-web-1"]}
    assert {r.dstport for r in scan if r.action == "ACCEPT"} == {443}
    assert max(r.start for r in scan) - min(r.start for r in scan) < 60
    brute = [r for r in first if r.srcaddr == BRUTE_FORCE_IP]
    assert len(brute) == 60 and {(r.dstaddr, r.dstport, r.action) for r in brute} == {(web["demo-web-1"], 22, "ACCEPT")}
    assert len({r.srcport for r in brute}) == 60
    https = [r for r in first if r.dstport == 443 and r.srcaddr != SCANNER_IP and r.dstaddr in web.values()]
    assert len(https) >= 24 and {r.action for r in https} == {"ACCEPT"}
    assert any(r.dstaddr == "10.20.0.2" and r.dstport == 53 and r.protocol == 17 for r in first)
    kinds = _kinds(first)
    assert {("port_scan", SCANNER_IP), ("brute_force", BRUTE_FORCE_IP)} <= kinds
    assert kinds <= {("port_scan", SCANNER_IP), ("brute_force", BRUTE_FORCE_IP), ("reject_spike", SCANNER_IP)}

    second, _ = _read(bucket2, key2)
    assert second and not {SCANNER_IP, BRUTE_FORCE_IP} & {r.srcaddr for r in second}
    assert {r.action for r in second} == {"ACCEPT", "REJECT"}
    assert _kinds(second) == set()


def test_it_is_reproducible_and_attacks_every_few_files(sandbox):
    _network(PAYMENTS)
    [(bucket, key)] = sandbox.flowlogs.flush(NOW)
    body = s3_backends[PAYMENTS]["aws"].get_object(bucket, key).value
    again = FlowLogWriter(0, attack_every=2)
    assert again.flush(NOW) == [(bucket, key)]
    assert s3_backends[PAYMENTS]["aws"].get_object(bucket, key).value == body
    attacked = []
    for n in range(1, 5):
        [(bucket, key)] = again.flush(NOW + n * MINUTE)
        attacked.append(SCANNER_IP in {r.srcaddr for r in _read(bucket, key)[0]})
    assert attacked == [False, True, False, True]


def test_one_failed_file_keeps_neither_the_others_nor_the_thread_from_going(sandbox, monkeypatch):
    _network(PAYMENTS, RESEARCH)
    real = flowtraffic.write_object

    def flaky(bucket, key, data):
        if bucket == flowlog_bucket(PAYMENTS):
            raise RuntimeError("disk full")
        return real(bucket, key, data)

    monkeypatch.setattr(flowtraffic, "write_object", flaky)
    assert [bucket for bucket, _ in sandbox.flowlogs.flush(NOW)] == [flowlog_bucket(RESEARCH)]

    writer = FlowLogWriter(0.05)
    writer.start()
    try:
        deadline = time.monotonic() + 10
        while len(writer.delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        writer.stop()
    assert len(writer.delivered) >= 2 and {bucket for bucket, _ in writer.delivered} == {flowlog_bucket(RESEARCH)}


def test_it_writes_under_the_destinations_prefix(sandbox):
    _network(PAYMENTS)
    [flow_log] = ec2_backends[PAYMENTS][REGION].flow_logs.values()
    flow_log.log_destination += "/vpc/logs/"  # moto's CreateFlowLogs refuses a path: set it in-process
    [(bucket, key)] = sandbox.flowlogs.flush(NOW)
    assert bucket == flowlog_bucket(PAYMENTS) and key.startswith("vpc/logs/AWSLogs/111111111111/vpcflowlogs/")
    assert parse_key(key).prefix == "vpc/logs"


def test_it_refuses_a_writer_that_never_attacks():
    with pytest.raises(ValueError):
        FlowLogWriter(attack_every=0)
