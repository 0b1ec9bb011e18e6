"""VPC flow logs end to end on the sandbox: a flow log recorded by the portal, its files found in S3, read once,
the detections (scan, brute force, threat list, a port the groups do not allow) turned into alerts by the
flow-log signatures; bad files quarantined. (Threat lists themselves: test_threat_lists.)"""

import datetime as dt

import pytest

from audit.models import ConfigResource
from audit.recorder import account_scan
from portal import aws
from portal.models import Account
from remediation.models import Policy
from sandbox.testing import deliver, operator_clients
from triage import flowlog_files, tasks
from triage.builtin_signatures import builtin_seed
from triage.flowlogs.parse import FlowRecord, file_key, render_file
from triage.models import Alert, FlowDetection, FlowLogFile, SignatureHit, ThreatList

ACCOUNT = "111111111111"
REGION = "us-east-1"
SCANNER, GUESSER = "203.0.113.66", "198.51.100.23"

pytestmark = pytest.mark.usefixtures("commit_now")


@pytest.fixture
def net(people, sandbox):
    """A VPC with one web host (443 from anywhere, 22 from 10/8 only) and a flow log to S3, recorded."""
    from remediation.demo import policies_demo_seed, rules_demo_seed
    from sandbox.bootstrap import bootstrap_from_portal

    rules_demo_seed()
    policies_demo_seed()
    Policy.objects.update(mode="off")
    builtin_seed()
    bootstrap_from_portal()
    admin = operator_clients(ACCOUNT, REGION)  # the network people built, and the flow logs' bucket
    ec2, s3 = admin("ec2", REGION), admin("s3", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[group],
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                     {"Key": "Name", "Value": "web-1"}, {"Key": "owner", "Value": "daisy@example.com"}]}]
                                 )["Instances"][0]
    s3.create_bucket(Bucket="flows-111111111111")
    flow_log = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                                    LogDestinationType="s3", LogDestination="arn:aws:s3:::flows-111111111111"
                                    )["FlowLogIds"][0]
    deliver(sandbox)
    account_scan(account=Account.objects.get(account_id=ACCOUNT), regions=[REGION])
    return {"s3": s3, "ip": instance["PrivateIpAddress"], "instance": instance["InstanceId"], "flow_log": flow_log,
            "eni": instance["NetworkInterfaces"][0]["NetworkInterfaceId"]}


def _records(net, start: int) -> list[FlowRecord]:
    ip, eni = net["ip"], net["eni"]
    rows = [FlowRecord(ACCOUNT, eni, "192.0.2.10", ip, 50000 + i, 443, 6, 10, 5000, start + i, start + i + 30,
                       "ACCEPT") for i in range(20)]
    rows += [FlowRecord(ACCOUNT, eni, ip, "192.0.2.10", 443, 50000 + i, 6, 10, 9000, start + i, start + i + 30,
                        "ACCEPT") for i in range(20)]  # the replies: not "disallowed"
    rows += [FlowRecord(ACCOUNT, eni, SCANNER, ip, 40000, 1000 + p, 6, 1, 40, start + 60, start + 90, "REJECT")
             for p in range(150)]
    rows += [FlowRecord(ACCOUNT, eni, GUESSER, ip, 30000 + i, 22, 6, 12, 2000, start + 120 + i * 2,
                        start + 150 + i * 2, "ACCEPT") for i in range(60)]
    return sorted(rows, key=lambda r: r.start)


def _put(net, records, when: dt.datetime, *, body: bytes | None = None) -> str:
    key = file_key(ACCOUNT, REGION, net["flow_log"], when)
    net["s3"].put_object(Bucket="flows-111111111111", Key=key, Body=body if body is not None else render_file(
        records, nodata_interfaces=["eni-idle"]))
    return key


def _flow_alerts():
    return Alert.objects.filter(signature__name__startswith="flowlog-")  # (the fixture's 443 to the world alerts too)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def test_a_file_with_attacks_is_read_once_and_raises_the_alerts(net, people):
    ThreatList.objects.create(name="blocklist", entries="198.51.100.0/24", entry_count=1)
    assert flowlog_files.destinations() == [flowlog_files.Destination(ACCOUNT, REGION, "flows-111111111111", "")]
    start = int(_now().timestamp()) - 600
    key = _put(net, _records(net, start), _now())

    assert tasks.flowlogs_poll() == 1
    flow_file = FlowLogFile.objects.get(key=key)
    assert (flow_file.status, flow_file.records, flow_file.skipped, flow_file.malformed) == ("DONE", 250, 1, 0)
    kinds = {(d.kind, d.source) for d in FlowDetection.objects.filter(file=flow_file)}
    assert kinds == {("port_scan", SCANNER), ("reject_spike", SCANNER), ("brute_force", GUESSER),
                     ("threat_list", GUESSER), ("disallowed_port", GUESSER)}
    assert flow_file.detections == 5
    brute = FlowDetection.objects.get(kind="brute_force")
    assert (brute.resource_id, brute.target, brute.count) == (net["instance"], net["ip"], 60)
    assert FlowDetection.objects.get(kind="threat_list").evidence["list"] == "blocklist"
    assert FlowDetection.objects.get(kind="disallowed_port").evidence["ports"] == [22]

    alerts = {a.signature.name: a for a in _flow_alerts()}
    assert set(alerts) == {"flowlog-port-scan", "flowlog-reject-spike", "flowlog-brute-force", "flowlog-threat-list",
                           "flowlog-disallowed-port"}
    brute_alert = alerts["flowlog-brute-force"]
    assert (brute_alert.identity, brute_alert.resource_id, brute_alert.team.slug, brute_alert.owner) == (
        GUESSER, net["instance"], "payments", "daisy@example.com")
    assert brute_alert.severity == "HIGH" and brute_alert.title.startswith("SSH/RDP brute force")
    assert brute.__class__.objects.get(pk=brute.pk).alert == brute_alert

    # Polled again: nothing new to read. Read again by hand (a second delivery of the task): nothing twice.
    assert tasks.flowlogs_poll() == 0
    assert flowlog_files.file_read(flow_file.pk) == "not claimed"
    FlowLogFile.objects.filter(pk=flow_file.pk).update(status="PENDING")
    flowlog_files.file_read(flow_file.pk)
    assert FlowDetection.objects.count() == 5
    assert SignatureHit.objects.filter(signature__name__startswith="flowlog-").count() == 5
    assert Alert.objects.get(pk=brute_alert.pk).count == 1


def test_the_same_attack_in_the_next_file_counts_on_the_same_alert(net):
    start = int(_now().timestamp()) - 1200
    records = _records(net, start)
    _put(net, records, _now() - dt.timedelta(minutes=10))
    _put(net, [dataclass_shift(r, 300) for r in records], _now() - dt.timedelta(minutes=5))
    assert tasks.flowlogs_poll() == 2
    scan = Alert.objects.get(signature__name="flowlog-port-scan")
    assert scan.count == 2 and scan.detections.count() == 2
    assert Alert.objects.filter(signature__name="flowlog-port-scan").count() == 1


def dataclass_shift(record: FlowRecord, seconds: int) -> FlowRecord:
    from dataclasses import replace

    return replace(record, start=record.start + seconds, end=record.end + seconds)


def test_normal_traffic_raises_nothing_and_a_bad_file_is_quarantined(net):
    start = int(_now().timestamp()) - 600
    quiet = [r for r in _records(net, start) if r.srcaddr not in (SCANNER, GUESSER)]
    good = _put(net, quiet, _now() - dt.timedelta(minutes=5))
    bad = _put(net, [], _now(), body=b"\x1f\x8b not really gzip")
    tasks.flowlogs_poll()
    assert FlowLogFile.objects.get(key=good).status == "DONE"
    assert not FlowDetection.objects.exists() and not _flow_alerts().exists()
    quarantined = FlowLogFile.objects.get(key=bad)
    assert quarantined.status == "QUARANTINED" and "not a flow-log file" in quarantined.reason


def test_a_vanished_object_is_quarantined_naming_why(net):
    key = _put(net, _records(net, int(_now().timestamp()) - 600), _now())
    assert flowlog_files.files_discover() and FlowLogFile.objects.get(key=key).status == "PENDING"
    net["s3"].delete_object(Bucket="flows-111111111111", Key=key)
    flow_file = FlowLogFile.objects.get(key=key)
    assert flowlog_files.file_read(flow_file.pk) == "QUARANTINED"
    assert FlowLogFile.objects.get(pk=flow_file.pk).reason == "cannot read the object: NoSuchKey"


def test_a_staged_flow_signature_counts_and_alerts_nobody(net, people):
    from triage import services
    from triage.models import Signature

    services.signature_save(signature=Signature.objects.get(name="flowlog-port-scan"), status="STAGING")
    _put(net, _records(net, int(_now().timestamp()) - 600), _now())
    tasks.flowlogs_poll()
    assert not Alert.objects.filter(signature__name="flowlog-port-scan").exists()
    assert services.staging_stats(Signature.objects.get(name="flowlog-port-scan"))["hits"] == 1


def test_a_worker_that_died_mid_file_leaves_it_to_the_reconciler(net):
    from portal.tasks import runs_reconcile

    key = _put(net, _records(net, int(_now().timestamp()) - 600), _now())
    flowlog_files.files_discover()
    flow_file = FlowLogFile.objects.get(key=key)
    assert flowlog_files.file_claim(flow_file.pk) is not None  # ... and the worker is killed here
    FlowLogFile.objects.filter(pk=flow_file.pk).update(updated=flowlog_files.timezone.now() - dt.timedelta(minutes=10))
    assert runs_reconcile() == 1
    assert FlowLogFile.objects.get(pk=flow_file.pk).status == "DONE" and _flow_alerts().count() == 4


def test_security_group_rules_decide_what_is_disallowed(net):
    network = flowlog_files.Network(ACCOUNT, REGION)
    ip = net["ip"]

    def record(src, dport, sport=40000, protocol=6):
        return FlowRecord(ACCOUNT, net["eni"], src, ip, sport, dport, protocol, 1, 1, 0, 1, "ACCEPT")

    assert network.allowed(record("192.0.2.1", 443)) is True
    assert network.allowed(record("10.1.2.3", 22)) is True
    assert network.allowed(record("192.0.2.1", 22)) is False
    assert network.allowed(record("192.0.2.1", 22, protocol=17)) is False
    assert network.allowed(record("192.0.2.1", 50000, sport=443)) is None  # a reply to our own connection
    assert network.allowed(FlowRecord(ACCOUNT, "eni-x", "192.0.2.1", "10.99.0.1", 1, 22, 6, 1, 1, 0, 1,
                                      "ACCEPT")) is None  # not a host we know


def test_a_destination_with_a_prefix_lists_under_it(net):
    # moto refuses an ARN with a path, so the recorded configuration is given one as AWS would record it.
    flow_log = ConfigResource.objects.get(resource_type="AWS::EC2::FlowLog")
    flow_log.configuration["logDestination"] = "arn:aws:s3:::flows-111111111111/vpc/logs"
    flow_log.save()
    assert flowlog_files.destinations() == [
        flowlog_files.Destination(ACCOUNT, REGION, "flows-111111111111", "vpc/logs/")]
    net["s3"].put_object(Bucket="flows-111111111111", Body=render_file(_records(net, 0)), Key=file_key(
        ACCOUNT, REGION, net["flow_log"], _now(), prefix="vpc/logs"))
    _put(net, [], _now())  # outside the prefix: not this destination's
    assert len(flowlog_files.files_discover()) == 1
    assert FlowLogFile.objects.get().key.startswith("vpc/logs/AWSLogs/111111111111/vpcflowlogs/us-east-1/")


# --- the pages ---

def test_the_flow_log_page_shows_each_team_its_own_detections(net, client, people):
    _put(net, _records(net, int(_now().timestamp()) - 600), _now())
    tasks.flowlogs_poll()
    client.force_login(people.daisy)
    page = client.get("/triage/flow-logs/").content.decode()
    assert SCANNER in page and ">Port scan</span>" in page and "Brute force: 1" in page
    assert client.get("/triage/flow-logs/?kind=brute_force").content.decode().count(f"<code>{GUESSER}</code>") == 1
    assert "kind: give one of" in client.get("/triage/flow-logs/?kind=nonsense", follow=True).content.decode()
    client.force_login(people.dan)  # Research: not his account
    page = client.get("/triage/flow-logs/").content.decode()
    assert SCANNER not in page and "No flow-log file yet" in page
    brute = Alert.objects.get(signature__name="flowlog-brute-force")
    client.force_login(people.daisy)
    detail = client.get(f"/triage/alerts/{brute.pk}/").content.decode()
    assert "Flow-log detections" in detail and "port 22: 60 accepted, 0 rejected" in detail


def test_a_signature_chain_can_stop_the_attacked_instance(net, people):
    from remediation.models import ActionRun
    from triage import services
    from triage.models import Signature

    services.signature_save(signature=Signature.objects.get(name="flowlog-brute-force"), user=people.admin,
                            actions=[{"action": "alert"}, {"action": "stop_instance"}])
    _put(net, _records(net, int(_now().timestamp()) - 600), _now())
    tasks.flowlogs_poll()
    run = ActionRun.objects.get(action="stop_instance")
    assert (run.status, run.resource_id, run.mode, run.policy) == ("SUCCEEDED", net["instance"], "enforce", None)
    assert run.reason.startswith("Signature flowlog-brute-force: SSH/RDP brute force")
    state = aws.client("ec2", account_id=ACCOUNT, region=REGION).describe_instances(
        InstanceIds=[net["instance"]])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("stopping", "stopped")
    # The same detection read again (another delivery of the file) makes no second run.
    flow_file = FlowLogFile.objects.get()
    FlowLogFile.objects.filter(pk=flow_file.pk).update(status="PENDING")
    flowlog_files.file_read(flow_file.pk)
    assert ActionRun.objects.filter(action="stop_instance").count() == 1
