"""The security-group rules and vpc-flow-logs-enabled: on hand-written configurations, and on groups, VPCs and
flow logs made in the sandbox AWS and read through the recorder's own collectors."""

import glob
import json
import os

import pytest

from audit.config.collectors import ec2 as collectors
from portal import aws
from sandbox.testing import kit, operator_clients
from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Evaluation,
    ResourceView,
)
from remediation.rules.managed import rule_by_name
from remediation.rules.managed_network import is_world, world_openings
from sandbox.testing import samples_path

ACCOUNT = "111111111111"
REGION = "us-east-1"
SSH = rule_by_name("restricted-ssh")
COMMON = rule_by_name("restricted-common-ports")
AUTHORIZED = rule_by_name("vpc-sg-open-only-to-authorized-ports")
FLOW_LOGS = rule_by_name("vpc-flow-logs-enabled")
WEB = {"authorizedTcpPorts": "443,1020-1025", "authorizedUdpPorts": "500"}


def group(*permissions) -> ResourceView:
    return ResourceView("AWS::EC2::SecurityGroup", "sg-1", ACCOUNT, REGION,
                        {"groupId": "sg-1", "ipPermissions": list(permissions), "ipPermissionsEgress": []})


def rule(protocol="tcp", ports=(22, 22), v4=(), v6=()):
    permission = {"ipProtocol": protocol, "ipRanges": [{"cidrIp": c} for c in v4],
                  "ipv6Ranges": [{"cidrIpv6": c} for c in v6], "prefixListIds": [], "userIdGroupPairs": []}
    if ports is not None:
        permission |= {"fromPort": ports[0], "toPort": ports[1]}
    return permission


# ------------------------------------------------------------------------------------------- the world


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "1.2.3.4/0", "208.236.235.254/0", "x.x.x.x/0", " 0.0.0.0/0 ",
                                  "2001:db8::/0", "X.X.X.X/0"])
def test_any_prefix_of_length_zero_is_the_world(cidr):
    assert is_world(cidr)


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "0.0.0.0/1", "1.2.3.4/32", "::/1", "2001:db8::/32", "1.2.3.4", "",
                                  None, "x.x.x.x/10", "pl-12345"])
def test_anything_narrower_is_not(cidr):
    assert not is_world(cidr)


def test_world_openings_lists_protocol_ports_and_cidr_and_needs_ip_permissions():
    found = world_openings(group(rule("6", (0, 65535), v6=["::/0"]), rule("-1", None, v4=["0.0.0.0/0"]),
                                 rule("tcp", (22, 22), v4=["10.0.0.0/8"])).configuration)
    assert [(o.protocol, o.start, o.end, o.cidr, o.label) for o in found] == [
        ("tcp", 0, 65535, "::/0", "tcp 0-65535"), ("all", 0, 65535, "0.0.0.0/0", "all traffic")]
    assert world_openings({"groupId": "sg-1"}) is None


# ------------------------------------------------------------------------------------------- restricted-ssh


@pytest.mark.parametrize("permission, annotation", [
    (rule(v4=["0.0.0.0/0"]), "Port 22 open to 0.0.0.0/0 (tcp 22)"),
    (rule(ports=(0, 65535), v6=["::/0"]), "Port 22 open to ::/0 (tcp 0-65535)"),
    (rule("-1", None, v4=["x.x.x.x/0"]), "Port 22 open to x.x.x.x/0 (all traffic)"),
    (rule("6", (20, 30), v4=["1.2.3.4/0"]), "Port 22 open to 1.2.3.4/0 (tcp 20-30)"),
    (rule("tcp", None, v4=["0.0.0.0/0"]), "Port 22 open to 0.0.0.0/0 (tcp 0-65535)"),
])
def test_restricted_ssh_flags_port_22_open_to_the_world(permission, annotation):
    assert SSH.evaluate(group(permission), {}) == Evaluation(NON_COMPLIANT, annotation)


@pytest.mark.parametrize("permission", [
    rule(v4=["10.0.0.0/8"], v6=["2001:db8::/32"]),
    rule(ports=(443, 443), v4=["0.0.0.0/0"]),
    rule("udp", (22, 22), v4=["0.0.0.0/0"]),
    rule("icmp", (-1, -1), v4=["0.0.0.0/0"]),
    rule("-1", None, v4=["192.168.0.0/16"]),
])
def test_restricted_ssh_passes_what_does_not_open_tcp_22_to_the_world(permission):
    result = SSH.evaluate(group(permission), {})
    assert (result.status, result.annotation) == (COMPLIANT, "Port 22 is not open to 0.0.0.0/0 or ::/0")


def test_restricted_ssh_names_several_offenders_on_one_line_and_needs_the_permissions():
    many = group(*[rule(v4=[f"{i}.0.0.0/0"]) for i in range(1, 6)])
    annotation = SSH.evaluate(many, {}).annotation
    assert "\n" not in annotation and annotation.endswith("; +2 more")
    missing = ResourceView("AWS::EC2::SecurityGroup", "sg-1", ACCOUNT, REGION, {"groupId": "sg-1"})
    assert SSH.evaluate(missing, {}).status == INSUFFICIENT_DATA


# ------------------------------------------------------------------------------------------- restricted-common-ports


def test_restricted_common_ports_checks_the_five_default_ports_and_the_extra_list():
    assert COMMON.evaluate(group(rule(ports=(3389, 3389), v4=["0.0.0.0/0"])), {}).annotation == (
        "Port 3389 open to 0.0.0.0/0 (tcp 3389)")
    ranged = COMMON.evaluate(group(rule(ports=(3000, 4000), v6=["::/0"])), {})
    assert (ranged.status, ranged.annotation) == (NON_COMPLIANT, "Ports 3306, 3389 open to ::/0 (tcp 3000-4000)")
    everything = COMMON.evaluate(group(rule("-1", None, v4=["0.0.0.0/0"])), {})
    assert everything.annotation == "Ports 20, 21, 3306, 3389, 4333 open to 0.0.0.0/0 (all traffic)"
    web = group(rule(ports=(443, 443), v4=["0.0.0.0/0"]), rule(ports=(3389, 3389), v4=["10.0.0.0/8"]))
    assert COMMON.evaluate(web, {}).status == COMPLIANT
    assert COMMON.evaluate(web, {"blockedPorts": "80,443"}).annotation == "Port 443 open to 0.0.0.0/0 (tcp 443)"
    assert COMMON.evaluate(web, {"blockedPort1": "443"}).status == NON_COMPLIANT
    assert COMMON.evaluate(group(rule("udp", (3389, 3389), v4=["0.0.0.0/0"])), {}).status == COMPLIANT  # TCP only


# ------------------------------------------------------------------------------------------- authorized ports


def test_authorized_ports_is_not_applicable_without_ingress_from_the_world():
    result = AUTHORIZED.evaluate(group(rule(v4=["10.0.0.0/8"])), WEB)
    assert (result.status, result.annotation) == (NOT_APPLICABLE, "No ingress rule is open to 0.0.0.0/0 or ::/0")


@pytest.mark.parametrize("permissions", [
    [rule(ports=(443, 443), v4=["0.0.0.0/0"])],
    [rule(ports=(1020, 1025), v6=["::/0"]), rule(ports=(1021, 1022), v4=["0.0.0.0/0"])],
    [rule("udp", (500, 500), v4=["0.0.0.0/0"]), rule("icmp", (-1, -1), v4=["0.0.0.0/0"])],
    [rule(ports=(22, 22), v4=["10.0.0.0/8"]), rule("17", (500, 500), v6=["::/0"])],
])
def test_authorized_ports_passes_world_ingress_only_on_authorized_ports(permissions):
    assert AUTHORIZED.evaluate(group(*permissions), WEB).status == COMPLIANT


@pytest.mark.parametrize("permission, params, annotation", [
    (rule(ports=(22, 22), v4=["0.0.0.0/0"]), WEB,
     "tcp 22 open to 0.0.0.0/0 beyond the authorized TCP ports (443,1020-1025): 22"),
    (rule(ports=(1020, 1030), v6=["::/0"]), WEB,
     "tcp 1020-1030 open to ::/0 beyond the authorized TCP ports (443,1020-1025): 1026-1030"),
    (rule(ports=(0, 65535), v4=["0.0.0.0/0"]), WEB,
     "tcp 0-65535 open to 0.0.0.0/0 beyond the authorized TCP ports (443,1020-1025): 0-442"),
    (rule("-1", None, v4=["208.236.235.254/0"]), WEB, "All traffic open to 208.236.235.254/0"),
    (rule("udp", (53, 53), v4=["0.0.0.0/0"]), WEB, "udp 53 open to 0.0.0.0/0 beyond the authorized UDP ports (500): 53"),
    (rule(ports=(443, 443), v4=["0.0.0.0/0"]), {}, "tcp 443 open to 0.0.0.0/0 beyond the authorized TCP ports (none): 443"),
])
def test_authorized_ports_flags_world_ingress_beyond_them(permission, params, annotation):
    result = AUTHORIZED.evaluate(group(permission), params)
    assert (result.status, result.annotation) == (NON_COMPLIANT, annotation)


# ------------------------------------------------------------------------------------------- flow logs


def vpc(*flow_logs, vpc_id="vpc-1"):
    related = [{"resource_type": "AWS::EC2::FlowLog", "resource_id": f"fl-{i}", "tags": {},
                "configuration": {"resourceId": vpc_id, "flowLogStatus": status, "trafficType": traffic}}
               for i, (status, traffic) in enumerate(flow_logs)]
    related.append({"resource_type": "AWS::EC2::Subnet", "resource_id": "subnet-1", "configuration": {}, "tags": {}})
    return ResourceView("AWS::EC2::VPC", vpc_id, ACCOUNT, REGION, {"vpcId": vpc_id}, related=related)


def test_vpc_flow_logs_enabled():
    assert FLOW_LOGS.evaluate(vpc(("ACTIVE", "ALL")), {}).annotation == "Flow log fl-0 logs ALL traffic"
    assert FLOW_LOGS.evaluate(vpc(("ACTIVE", "ALL")), {"trafficType": "REJECT"}).status == COMPLIANT
    assert FLOW_LOGS.evaluate(vpc(("ACTIVE", "REJECT")), {"trafficType": "reject"}).status == COMPLIANT
    wrong = FLOW_LOGS.evaluate(vpc(("ACTIVE", "ACCEPT")), {"trafficType": "REJECT"})
    assert (wrong.status, wrong.annotation) == (NON_COMPLIANT, "The flow logs of vpc-1 log ACCEPT traffic, not REJECT")
    none = FLOW_LOGS.evaluate(vpc(), {})
    assert (none.status, none.annotation) == (NON_COMPLIANT, "No flow log for vpc-1")
    assert FLOW_LOGS.evaluate(vpc(("INACTIVE", "ALL")), {}).status == NON_COMPLIANT


# ------------------------------------------------------------------------------------------- in the sandbox


@pytest.fixture
def ec2(sandbox):
    """EC2 as the administrator of ACCOUNT (which has the kit): the groups people made, for the recorder to read."""
    kit(ACCOUNT)
    return operator_clients(ACCOUNT, REGION)("ec2", REGION)


def clients(service, region):
    return aws.client(service, account_id=ACCOUNT, region=region)


def recorded_group(ec2, vpc_id, name, permissions) -> ResourceView:
    group_id = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
    snapshot = collectors.SecurityGroupCollector().get(clients, REGION, group_id)
    return ResourceView(snapshot.resource_type, snapshot.resource_id, ACCOUNT, snapshot.region, snapshot.configuration,
                        tags=snapshot.tags, relationships=[r.as_dict() for r in snapshot.relationships])


def permission(protocol, ports, v4=(), v6=()):
    item = {"IpProtocol": protocol, "IpRanges": [{"CidrIp": c} for c in v4],
            "Ipv6Ranges": [{"CidrIpv6": c} for c in v6]}
    return item | ({"FromPort": ports[0], "ToPort": ports[1]} if ports else {})


def test_recorded_groups_in_the_sandbox(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    cases = {
        "v6-everything": ([permission("tcp", (0, 65535), v6=["::/0"])], NON_COMPLIANT, NON_COMPLIANT, NON_COMPLIANT),
        "all-traffic": ([permission("-1", None, v4=["0.0.0.0/0"])], NON_COMPLIANT, NON_COMPLIANT, NON_COMPLIANT),
        "numbered-ssh": ([permission("6", (22, 22), v4=["0.0.0.0/0"])], NON_COMPLIANT, COMPLIANT, NON_COMPLIANT),
        "odd-world": ([permission("tcp", (22, 22), v4=["208.236.235.254/0"])], NON_COMPLIANT, COMPLIANT,
                      NON_COMPLIANT),
        "rdp-range": ([permission("tcp", (3000, 4000), v4=["0.0.0.0/0"])], COMPLIANT, NON_COMPLIANT, NON_COMPLIANT),
        "private": ([permission("tcp", (22, 22), v4=["10.0.0.0/8"])], COMPLIANT, COMPLIANT, NOT_APPLICABLE),
        "web": ([permission("tcp", (443, 443), v4=["0.0.0.0/0"], v6=["::/0"]),
                 permission("tcp", (1020, 1025), v4=["0.0.0.0/0"]), permission("udp", (500, 500), v6=["::/0"])],
                COMPLIANT, COMPLIANT, COMPLIANT),
        "empty": ([], COMPLIANT, COMPLIANT, NOT_APPLICABLE),
    }
    for name, (permissions, ssh, common, authorized) in cases.items():
        recorded = recorded_group(ec2, vpc_id, name, permissions)
        got = (SSH.evaluate(recorded, {}).status, COMMON.evaluate(recorded, {}).status,
               AUTHORIZED.evaluate(recorded, WEB).status)
        assert got == (ssh, common, authorized), name
    v6 = recorded_group(ec2, vpc_id, "v6-again", [permission("tcp", (0, 65535), v6=["::/0"])])
    assert SSH.evaluate(v6, {}).annotation == "Port 22 open to ::/0 (tcp 0-65535)"
    numbered = recorded_group(ec2, vpc_id, "numbered-again", [permission("6", (22, 22), v4=["0.0.0.0/0"])])
    assert SSH.evaluate(numbered, {}).annotation == "Port 22 open to 0.0.0.0/0 (tcp 22)"


def _ingress_cidrs(value, found):
    """Every cidrIp / cidrIpv4 / cidrIpv6 value anywhere under `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("cidrIp", "cidrIpv4", "cidrIpv6") and isinstance(item, str):
                found.add(item)
            else:
                _ingress_cidrs(item, found)
    elif isinstance(value, list):
        for item in value:
            _ingress_cidrs(item, found)
    return found


def _sample_ingress():
    """(file, record, cidr) for every ingress CIDR in the stratus-red-team CloudTrail samples."""
    directory = samples_path("cloudtrail", "stratus-red-team")
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as handle:
            data = json.load(handle)
        records = data.get("Records", []) if isinstance(data, dict) else data
        for record in records:
            if "Ingress" in str(record.get("eventName", "")):
                for cidr in sorted(_ingress_cidrs(record, set())):
                    yield os.path.basename(path), record, cidr


def test_the_world_open_cidrs_of_the_stratus_red_team_samples_are_flagged(ec2):
    samples = list(_sample_ingress())
    world = [(name, record, cidr) for name, record, cidr in samples if cidr.strip().endswith("/0")]
    assert world, "the samples have no world-open ingress"
    vpc_id = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    for index, (name, record, cidr) in enumerate(world):
        assert is_world(cidr), (name, cidr)
        request = record.get("requestParameters") or {}
        protocol = str(request.get("ipProtocol") or "tcp")
        ports = (request.get("fromPort", 22), request.get("toPort", request.get("fromPort", 22)))
        family = {"v6": [cidr]} if ":" in cidr else {"v4": [cidr]}
        recorded = recorded_group(ec2, vpc_id, f"sample-{index}",
                                  [permission(protocol, None if protocol == "-1" else ports, **family)])
        assert AUTHORIZED.evaluate(recorded, {}).status == NON_COMPLIANT, (name, cidr)
        assert COMMON.evaluate(recorded, {"blockedPort1": str(ports[0])}).status == NON_COMPLIANT, (name, cidr)
        if protocol == "-1" or ports[0] <= 22 <= ports[1]:
            result = SSH.evaluate(recorded, {})
            assert result.status == NON_COMPLIANT and cidr in result.annotation, (name, cidr)


def test_recorded_vpcs_and_their_flow_logs_in_the_sandbox(ec2):
    s3 = operator_clients(ACCOUNT, REGION)("s3", REGION)
    s3.create_bucket(Bucket="flow-logs-rules")
    logged = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    bare = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    ec2.create_flow_logs(ResourceIds=[logged], ResourceType="VPC", TrafficType="REJECT", LogDestinationType="s3",
                         LogDestination="arn:aws:s3:::flow-logs-rules")
    flow_logs = list(collectors.FlowLogCollector().scan(clients, REGION))

    def recorded(vpc_id):
        snapshot = collectors.VpcCollector().get(clients, REGION, vpc_id)
        related = [{"resource_type": f.resource_type, "resource_id": f.resource_id, "configuration": f.configuration,
                    "tags": f.tags} for f in flow_logs if any(r.resource_id == vpc_id for r in f.relationships)]
        return ResourceView(snapshot.resource_type, vpc_id, ACCOUNT, REGION, snapshot.configuration, related=related)

    assert FLOW_LOGS.evaluate(recorded(logged), {}).status == COMPLIANT
    assert FLOW_LOGS.evaluate(recorded(logged), {"trafficType": "REJECT"}).status == COMPLIANT
    assert FLOW_LOGS.evaluate(recorded(logged), {"trafficType": "ACCEPT"}).status == NON_COMPLIANT
    assert FLOW_LOGS.evaluate(recorded(bare), {}) == Evaluation(NON_COMPLIANT, f"No flow log for {bare}")
