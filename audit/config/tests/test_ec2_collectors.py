"""The EC2 collectors against the sandbox AWS: what each snapshot holds, deletions, determinism, API call counts."""

import ast
from collections import Counter
from datetime import timezone
from pathlib import Path

import pytest

from audit.config.base import Relationship, Snapshot
from audit.config.collectors import ec2 as collectors
from audit.config.collectors.ec2 import (
    COLLECTORS,
    FlowLogCollector,
    InstanceCollector,
    NetworkInterfaceCollector,
    SecurityGroupCollector,
    SubnetCollector,
    VpcCollector,
)
from portal import aws
from sandbox.testing import kit, operator_clients

ACCOUNT = "111111111111"
REGION = "us-east-1"
IMAGE = "ami-03cf127a"  # one of the images moto ships


class CountingClients:
    """`clients(service, region)` for the sandbox account, one client per (service, region), counting API calls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._built: dict[tuple[str, str], object] = {}

    def __call__(self, service: str, region: str):
        key = (service, region)
        if key not in self._built:
            client = aws.client(service, account_id=ACCOUNT, region=region)
            client.meta.events.register("before-call", self._count)
            self._built[key] = client
        return self._built[key]

    def _count(self, model, **kwargs) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def clients(sandbox) -> CountingClients:
    """The portal's reader role in ACCOUNT, which has the kit."""
    kit(ACCOUNT)
    return CountingClients()


@pytest.fixture
def ec2(clients):
    """EC2 as ACCOUNT's administrator: the resources people made there, for the collectors to find."""
    return operator_clients(ACCOUNT, REGION)("ec2", REGION)


@pytest.fixture
def network(ec2):
    """A VPC with one subnet and one security group that lets 10.0.0.0/8 in on 443."""
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16",
                         TagSpecifications=[_name_tag("vpc", "main")])["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24",
                               TagSpecifications=[_name_tag("subnet", "app")])["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="web", Description="web servers", VpcId=vpc,
                                      TagSpecifications=[_name_tag("security-group", "web-sg", owner="daisy")])
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[_https("10.0.0.0/8")])
    return {"vpc": vpc, "subnet": subnet, "sg": group["GroupId"]}


def _name_tag(resource_type: str, name: str, **more: str) -> dict:
    tags = [{"Key": "Name", "Value": name}] + [{"Key": k, "Value": v} for k, v in more.items()]
    return {"ResourceType": resource_type, "Tags": tags}


def _https(cidr: str) -> dict:
    return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": cidr}]}


def _launch(ec2, network, name: str = "box", count: int = 1) -> list[dict]:
    answer = ec2.run_instances(
        ImageId=IMAGE, MinCount=count, MaxCount=count, InstanceType="t3.micro", SubnetId=network["subnet"],
        SecurityGroupIds=[network["sg"]], TagSpecifications=[_name_tag("instance", name)],
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}])
    return answer["Instances"]


def _by_id(snapshots) -> dict[str, Snapshot]:
    found = {}
    for snapshot in snapshots:
        assert snapshot.resource_id not in found, f"{snapshot.resource_id} scanned twice"
        found[snapshot.resource_id] = snapshot
    return found


def _related(snapshot: Snapshot, name: str) -> set[str]:
    return {r.resource_id for r in snapshot.relationships if r.name == name}


def _flow_log(ec2, clients, resource_id: str, resource_type: str) -> str:
    bucket = "flow-logs-bucket"
    s3 = operator_clients(ACCOUNT, REGION)("s3", REGION)
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    answer = ec2.create_flow_logs(ResourceIds=[resource_id], ResourceType=resource_type, TrafficType="ALL",
                                  LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}")
    return answer["FlowLogIds"][0]


# ------------------------------------------------------------------------------------------- the module


def test_it_exports_one_regional_collector_per_type():
    assert [c.resource_type for c in COLLECTORS] == [
        "AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::EC2::VPC", "AWS::EC2::Subnet",
        "AWS::EC2::NetworkInterface", "AWS::EC2::FlowLog"]
    assert not any(c.global_ for c in COLLECTORS)


def test_the_module_stays_pure():
    tree = ast.parse(Path(collectors.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0] in {"django", "boto3", "botocore", "portal"}}


# ------------------------------------------------------------------------------------------- security groups


def test_security_group_scan_and_get(clients, network):
    collector = SecurityGroupCollector()
    scanned = _by_id(collector.scan(clients, REGION))
    snapshot = scanned[network["sg"]]
    assert (snapshot.resource_type, snapshot.region, snapshot.name) == ("AWS::EC2::SecurityGroup", REGION, "web")
    assert snapshot.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{network['sg']}"
    assert snapshot.tags == {"Name": "web-sg", "owner": "daisy"}
    assert snapshot.configuration["groupId"] == network["sg"]
    assert snapshot.configuration["vpcId"] == network["vpc"]
    assert snapshot.configuration["ipPermissions"][0]["ipRanges"] == [{"cidrIp": "10.0.0.0/8"}]
    assert "tags" not in snapshot.configuration
    assert snapshot.relationships == [Relationship("Is contained in Vpc", "AWS::EC2::VPC", network["vpc"])]
    assert snapshot.created is None
    assert collector.get(clients, REGION, network["sg"]) == snapshot


def test_a_group_widened_to_the_world_has_another_configuration(clients, ec2, network):
    collector = SecurityGroupCollector()
    before = collector.get(clients, REGION, network["sg"])
    ec2.authorize_security_group_ingress(GroupId=network["sg"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    after = collector.get(clients, REGION, network["sg"])
    assert after.configuration != before.configuration
    assert (after.tags, after.relationships) == (before.tags, before.relationships)
    assert "0.0.0.0/0" in str(after.configuration["ipPermissions"])
    assert "0.0.0.0/0" not in str(before.configuration["ipPermissions"])


def test_a_group_lists_the_instances_and_interfaces_that_use_it(clients, ec2, network):
    instance = _launch(ec2, network)[0]
    interface = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    loose = ec2.create_network_interface(SubnetId=network["subnet"], Groups=[network["sg"]])
    loose_id = loose["NetworkInterface"]["NetworkInterfaceId"]
    other = ec2.create_security_group(GroupName="other", Description="unused", VpcId=network["vpc"])["GroupId"]

    collector = SecurityGroupCollector()
    got = collector.get(clients, REGION, network["sg"])
    assert _related(got, "Is associated with Instance") == {instance["InstanceId"]}
    assert _related(got, "Is associated with NetworkInterface") == {interface, loose_id}
    assert _related(got, "Is contained in Vpc") == {network["vpc"]}
    assert got.relationships == sorted(got.relationships)
    scanned = _by_id(collector.scan(clients, REGION))
    assert scanned[network["sg"]] == got
    assert scanned[other].relationships == [Relationship("Is contained in Vpc", "AWS::EC2::VPC", network["vpc"])]


def test_a_deleted_group_is_gone(clients, ec2, network):
    ec2.delete_security_group(GroupId=network["sg"])
    collector = SecurityGroupCollector()
    assert collector.get(clients, REGION, network["sg"]) is None
    assert network["sg"] not in _by_id(collector.scan(clients, REGION))


# ------------------------------------------------------------------------------------------- instances


def test_instance_scan_and_get(clients, ec2, network):
    instance = _launch(ec2, network, name="app-1")[0]
    instance_id = instance["InstanceId"]
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    volume = described["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    interface = described["NetworkInterfaces"][0]["NetworkInterfaceId"]

    collector = InstanceCollector()
    snapshot = collector.get(clients, REGION, instance_id)
    assert (snapshot.resource_type, snapshot.resource_id, snapshot.name) == ("AWS::EC2::Instance", instance_id, "app-1")
    assert snapshot.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"
    assert snapshot.tags == {"Name": "app-1"}
    assert snapshot.configuration["instanceId"] == instance_id
    assert snapshot.configuration["state"]["name"] == "running"
    assert "tags" not in snapshot.configuration
    assert snapshot.created == described["LaunchTime"]
    assert snapshot.created.tzinfo == timezone.utc
    assert snapshot.relationships == sorted([
        Relationship("Contains NetworkInterface", "AWS::EC2::NetworkInterface", interface),
        Relationship("Is associated with SecurityGroup", "AWS::EC2::SecurityGroup", network["sg"]),
        Relationship("Is attached to Volume", "AWS::EC2::Volume", volume),
        Relationship("Is contained in Subnet", "AWS::EC2::Subnet", network["subnet"]),
        Relationship("Is contained in Vpc", "AWS::EC2::VPC", network["vpc"]),
    ])
    assert _by_id(collector.scan(clients, REGION))[instance_id] == snapshot


def test_an_instance_without_a_name_tag_is_named_by_its_id(clients, ec2):
    instance_id = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    snapshot = InstanceCollector().get(clients, REGION, instance_id)
    assert (snapshot.name, snapshot.tags) == (instance_id, {})


def test_a_terminated_instance_is_deleted(clients, ec2, network):
    gone, kept = (i["InstanceId"] for i in _launch(ec2, network, count=2))
    ec2.terminate_instances(InstanceIds=[gone])
    collector = InstanceCollector()
    assert collector.get(clients, REGION, gone) is None
    assert collector.get(clients, REGION, kept) is not None
    scanned = _by_id(collector.scan(clients, REGION))
    assert gone not in scanned and kept in scanned
    # moto still lists the terminated instance under the group's filter; the group does not relate to it.
    group = SecurityGroupCollector()
    assert _related(group.get(clients, REGION, network["sg"]), "Is associated with Instance") == {kept}
    assert _related(_by_id(group.scan(clients, REGION))[network["sg"]], "Is associated with Instance") == {kept}


# ------------------------------------------------------------------------------------------- VPCs and subnets


def test_vpc_scan_and_get(clients, network):
    collector = VpcCollector()
    snapshot = collector.get(clients, REGION, network["vpc"])
    assert (snapshot.resource_type, snapshot.name, snapshot.tags) == ("AWS::EC2::VPC", "main", {"Name": "main"})
    assert snapshot.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{network['vpc']}"
    assert snapshot.configuration["cidrBlock"] == "10.1.0.0/16"
    assert snapshot.relationships == []
    scanned = _by_id(collector.scan(clients, REGION))
    assert scanned[network["vpc"]] == snapshot
    assert any(s.configuration.get("isDefault") for s in scanned.values())  # the default VPC is there too


def test_subnet_scan_and_get(clients, ec2, network):
    collector = SubnetCollector()
    snapshot = collector.get(clients, REGION, network["subnet"])
    assert (snapshot.resource_type, snapshot.name) == ("AWS::EC2::Subnet", "app")
    assert snapshot.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{network['subnet']}"
    assert snapshot.configuration["cidrBlock"] == "10.1.1.0/24"
    assert snapshot.relationships == [Relationship("Is contained in Vpc", "AWS::EC2::VPC", network["vpc"])]
    assert _by_id(collector.scan(clients, REGION))[network["subnet"]] == snapshot
    # An instance starting in the subnet uses one of its addresses: that is no change of the subnet.
    _launch(ec2, network)
    assert collector.get(clients, REGION, network["subnet"]) == snapshot


# ------------------------------------------------------------------------------------------- network interfaces


def test_network_interface_scan_and_get(clients, ec2, network):
    instance = _launch(ec2, network)[0]
    attached = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    loose = ec2.create_network_interface(
        SubnetId=network["subnet"], Groups=[network["sg"]], Description="spare",
        TagSpecifications=[_name_tag("network-interface", "spare")])["NetworkInterface"]["NetworkInterfaceId"]

    collector = NetworkInterfaceCollector()
    spare = collector.get(clients, REGION, loose)
    assert (spare.resource_type, spare.name, spare.tags) == ("AWS::EC2::NetworkInterface", "spare", {"Name": "spare"})
    assert spare.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/{loose}"
    assert "tagSet" not in spare.configuration and spare.configuration["description"] == "spare"
    assert spare.relationships == [
        Relationship("Is associated with SecurityGroup", "AWS::EC2::SecurityGroup", network["sg"]),
        Relationship("Is contained in Subnet", "AWS::EC2::Subnet", network["subnet"]),
        Relationship("Is contained in Vpc", "AWS::EC2::VPC", network["vpc"]),
    ]
    in_use = collector.get(clients, REGION, attached)
    assert _related(in_use, "Is attached to Instance") == {instance["InstanceId"]}
    scanned = _by_id(collector.scan(clients, REGION))
    assert (scanned[loose], scanned[attached]) == (spare, in_use)


# ------------------------------------------------------------------------------------------- flow logs


def test_flow_log_scan_and_get(clients, ec2, network):
    eni = ec2.create_network_interface(SubnetId=network["subnet"])["NetworkInterface"]["NetworkInterfaceId"]
    watched = {
        _flow_log(ec2, clients, network["vpc"], "VPC"): ("Is associated with Vpc", "AWS::EC2::VPC", network["vpc"]),
        _flow_log(ec2, clients, network["subnet"], "Subnet"): (
            "Is associated with Subnet", "AWS::EC2::Subnet", network["subnet"]),
        _flow_log(ec2, clients, eni, "NetworkInterface"): (
            "Is associated with NetworkInterface", "AWS::EC2::NetworkInterface", eni),
    }
    collector = FlowLogCollector()
    scanned = _by_id(collector.scan(clients, REGION))
    assert set(scanned) == set(watched)
    for flow_log_id, relationship in watched.items():
        snapshot = collector.get(clients, REGION, flow_log_id)
        assert snapshot == scanned[flow_log_id]
        assert snapshot.resource_type == "AWS::EC2::FlowLog"
        assert snapshot.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/{flow_log_id}"
        assert snapshot.configuration["flowLogId"] == flow_log_id
        assert snapshot.relationships == [Relationship(*relationship)]


def test_a_deleted_flow_log_is_gone(clients, ec2, network):
    flow_log_id = _flow_log(ec2, clients, network["vpc"], "VPC")
    ec2.delete_flow_logs(FlowLogIds=[flow_log_id])
    assert FlowLogCollector().get(clients, REGION, flow_log_id) is None
    assert list(FlowLogCollector().scan(clients, REGION)) == []


# ------------------------------------------------------------------------------------------- every type


@pytest.mark.parametrize(("collector", "resource_id"), [
    (SecurityGroupCollector(), "sg-0123456789abcdef0"),
    (InstanceCollector(), "i-0123456789abcdef0"),
    (VpcCollector(), "vpc-0123456789abcdef0"),
    (SubnetCollector(), "subnet-0123456789abcdef0"),
    (NetworkInterfaceCollector(), "eni-0123456789abcdef0"),
    (FlowLogCollector(), "fl-0123456789abcdef0"),
], ids=lambda value: getattr(value, "resource_type", value))
def test_get_of_an_unknown_id_is_none(clients, collector, resource_id):
    assert collector.get(clients, REGION, resource_id) is None


def test_a_second_look_at_unchanged_resources_gives_equal_snapshots(clients, ec2, network):
    _launch(ec2, network, count=2)
    ec2.create_network_interface(SubnetId=network["subnet"], Groups=[network["sg"]])
    _flow_log(ec2, clients, network["vpc"], "VPC")
    for collector in COLLECTORS:
        first = _by_id(collector.scan(clients, REGION))
        second = _by_id(collector.scan(clients, REGION))
        assert first and first == second, collector.resource_type
        for resource_id, snapshot in first.items():
            assert collector.get(clients, REGION, resource_id) == snapshot, resource_id
            assert collector.get(clients, REGION, resource_id) == snapshot, resource_id


@pytest.mark.parametrize("groups", [3, 30])
def test_a_scan_costs_a_few_calls_whatever_the_number_of_resources(clients, ec2, network, groups):
    for index in range(groups):
        group_id = ec2.create_security_group(GroupName=f"g{index}", Description="d", VpcId=network["vpc"])["GroupId"]
        ec2.create_network_interface(SubnetId=network["subnet"], Groups=[group_id])
    _launch(ec2, network, count=5)
    _flow_log(ec2, clients, network["vpc"], "VPC")

    expected = {
        "AWS::EC2::SecurityGroup": {"DescribeSecurityGroups": 1, "DescribeInstances": 1,
                                    "DescribeNetworkInterfaces": 1},
        "AWS::EC2::Instance": {"DescribeInstances": 1},
        "AWS::EC2::VPC": {"DescribeVpcs": 1},
        "AWS::EC2::Subnet": {"DescribeSubnets": 1},
        "AWS::EC2::NetworkInterface": {"DescribeNetworkInterfaces": 1},
        "AWS::EC2::FlowLog": {"DescribeFlowLogs": 1, "GetCallerIdentity": 1},
    }
    for collector in COLLECTORS:
        clients.calls.clear()
        snapshots = list(collector.scan(clients, REGION))
        assert snapshots
        assert dict(clients.calls) == expected[collector.resource_type], collector.resource_type
    clients.calls.clear()
    scanned = _by_id(SecurityGroupCollector().scan(clients, REGION))
    assert len(scanned) >= groups + 2  # the new groups, "web" and the default VPC's default group
    assert clients.total() == 3


# ------------------------------------------------------------------------------------------- errors


class _Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": "no"}}


class _RefusingEc2:
    """An EC2 client whose every describe call fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str):
        def call(**kwargs):
            raise self.error
        return call


@pytest.mark.parametrize("error", [_Refused("UnauthorizedOperation"), _Refused("RequestLimitExceeded"),
                                   ConnectionError("the endpoint went away")], ids=str)
@pytest.mark.parametrize("collector", COLLECTORS, ids=lambda c: c.resource_type)
def test_get_raises_what_is_not_a_missing_resource(collector, error):
    def refusing(service, region):
        return _RefusingEc2(error)

    with pytest.raises(type(error)):
        collector.get(refusing, REGION, "x-0123456789abcdef0")


def test_a_not_found_answer_is_none_without_the_sandbox():
    codes = {SecurityGroupCollector(): "InvalidGroup.NotFound", InstanceCollector(): "InvalidInstanceID.NotFound",
             VpcCollector(): "InvalidVpcID.NotFound", SubnetCollector(): "InvalidSubnetID.NotFound",
             NetworkInterfaceCollector(): "InvalidNetworkInterfaceID.NotFound"}
    for collector, code in codes.items():
        assert collector.get(lambda service, region, code=code: _RefusingEc2(_Refused(code)), REGION, "x-1") is None
    # a code for another type is not taken as "missing"
    with pytest.raises(_Refused):
        VpcCollector().get(lambda service, region: _RefusingEc2(_Refused("InvalidGroup.NotFound")), REGION, "vpc-1")
