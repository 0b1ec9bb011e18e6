"""EC2 networking and compute as AWS Config records them: security groups, instances, VPCs, subnets, ENIs, flow logs.

Every scan lists its type with paginated describe calls (1,000 items a page where EC2 allows it). The one
relationship that needs another listing, which instances and network interfaces use a security group, is
answered from one describe_instances and one describe_network_interfaces listing per scan, turned into an
inverse map, so a scan costs the same few calls whether the region holds five groups or five thousand.

Pure Python like ``audit.config.base``: clients come from the ``clients(service, region)`` callable and AWS
errors are recognised by their code, so neither Django nor botocore is imported here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from audit.config.base import Clients, Collector, Relationship, Snapshot, error_code, lower_camel, tag_dict, utc

__all__ = ["COLLECTORS", "FlowLogCollector", "InstanceCollector", "NetworkInterfaceCollector",
           "SecurityGroupCollector", "SubnetCollector", "VpcCollector"]

PAGE_SIZE = 1000  # EC2's largest MaxResults for the describe calls below

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
INSTANCE = "AWS::EC2::Instance"
VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
NETWORK_INTERFACE = "AWS::EC2::NetworkInterface"
VOLUME = "AWS::EC2::Volume"
FLOW_LOG = "AWS::EC2::FlowLog"

# Keys that never reach `configuration`: tags have their own field (ENIs call them TagSet), and a subnet's
# free address count moves whenever anything in it starts or stops, which is not a change of the subnet.
_TAG_KEYS = frozenset({"Tags", "TagSet"})
_SUBNET_VOLATILE = frozenset({"AvailableIpAddressCount"})

# Instances in this state are gone (AWS keeps showing them for about an hour).
_GONE_STATES = frozenset({"terminated"})

# The error codes with which EC2 says "no such resource" (moto answers malformed ids with them too).
_NO_GROUP = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})
_NO_INSTANCE = frozenset({"InvalidInstanceID.NotFound"})
_NO_VPC = frozenset({"InvalidVpcID.NotFound"})
_NO_SUBNET = frozenset({"InvalidSubnetID.NotFound"})
_NO_INTERFACE = frozenset({"InvalidNetworkInterfaceID.NotFound"})
_NO_FLOW_LOG = frozenset({"InvalidFlowLogId.NotFound"})

# A flow log watches a VPC, a subnet or one network interface; its ResourceId's prefix says which.
_FLOW_LOG_TARGETS = (("vpc-", "Vpc", VPC), ("subnet-", "Subnet", SUBNET), ("eni-", "NetworkInterface", NETWORK_INTERFACE))


# ---------------------------------------------------------------------------------------------- helpers


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item under `key` across the pages of a paginated describe call."""
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}, **kwargs):
        yield from page.get(key) or []


def _describe(client: Any, operation: str, key: str, missing: frozenset[str], **kwargs: Any) -> list[dict[str, Any]]:
    """The items of one describe-by-id call; empty when AWS answers one of the `missing` error codes."""
    try:
        answer = getattr(client, operation)(**kwargs)
    except Exception as exc:
        if error_code(exc) in missing:
            return []
        raise
    return list(answer.get(key) or [])


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _arn(region: str, owner: str, kind: str, resource_id: str) -> str:
    return f"arn:{_partition(region)}:ec2:{region}:{owner}:{kind}/{resource_id}"


def _configuration(item: dict[str, Any], drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The describe item as Config shows it: lowerCamelCase keys, without tags or the `drop` keys."""
    return lower_camel({k: v for k, v in item.items() if k not in _TAG_KEYS and k not in drop})


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return tag_dict(item.get("Tags") if "Tags" in item else item.get("TagSet"))


def _name(item: dict[str, Any], resource_id: str) -> str:
    return _tags(item).get("Name") or resource_id


def _relationships(pairs: Iterable[tuple[str, str, str | None]]) -> list[Relationship]:
    """Sorted, distinct relationships from (name, type, id) triples; triples without an id are skipped."""
    return sorted({Relationship(name, kind, rid) for name, kind, rid in pairs if rid})


def _group_ids(groups: Iterable[dict[str, Any]] | None) -> set[str]:
    return {g["GroupId"] for g in groups or [] if g.get("GroupId")}


def _live(instance: dict[str, Any]) -> bool:
    return (instance.get("State") or {}).get("Name") not in _GONE_STATES


def _instances(reservations: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    """(instance, owner account) for every instance of the reservations that is not terminated."""
    for reservation in reservations:
        owner = reservation.get("OwnerId", "")
        for instance in reservation.get("Instances") or []:
            if _live(instance):
                yield instance, owner


def _users(instances: Iterable[dict[str, Any]], interfaces: Iterable[dict[str, Any]]) -> tuple[
        dict[str, set[str]], dict[str, set[str]]]:
    """Inverse maps: security group id -> ids of the instances using it, and -> ids of the ENIs using it."""
    by_instance: dict[str, set[str]] = defaultdict(set)
    by_interface: dict[str, set[str]] = defaultdict(set)
    for instance in instances:
        for group_id in _group_ids(instance.get("SecurityGroups")):
            by_instance[group_id].add(instance["InstanceId"])
    for interface in interfaces:
        for group_id in _group_ids(interface.get("Groups")):
            by_interface[group_id].add(interface["NetworkInterfaceId"])
    return by_instance, by_interface


class _Ec2Collector:
    """What the EC2 collectors share: a regional type whose client is EC2's."""

    resource_type = ""
    global_ = False

    @staticmethod
    def _ec2(clients: Clients, region: str) -> Any:
        return clients("ec2", region)


# ---------------------------------------------------------------------------------------------- collectors


class SecurityGroupCollector(_Ec2Collector):
    """AWS::EC2::SecurityGroup, with the VPC it lives in and the instances and ENIs that use it."""

    resource_type = SECURITY_GROUP

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        ec2 = self._ec2(clients, region)
        groups = list(_pages(ec2, "describe_security_groups", "SecurityGroups"))
        instances = [i for i, _ in _instances(_pages(ec2, "describe_instances", "Reservations"))]
        interfaces = _pages(ec2, "describe_network_interfaces", "NetworkInterfaces")
        by_instance, by_interface = _users(instances, interfaces)
        for group in groups:
            group_id = group["GroupId"]
            yield self._snapshot(group, region, by_instance.get(group_id, ()), by_interface.get(group_id, ()))

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        ec2 = self._ec2(clients, region)
        groups = _describe(ec2, "describe_security_groups", "SecurityGroups", _NO_GROUP, GroupIds=[resource_id])
        group = next((g for g in groups if g.get("GroupId") == resource_id), None)
        if group is None:
            return None
        # The filters narrow the listings; the same inverse map as scan's decides, so get and scan agree.
        instances = [i for i, _ in _instances(_pages(
            ec2, "describe_instances", "Reservations",
            Filters=[{"Name": "instance.group-id", "Values": [resource_id]}]))]
        interfaces = _pages(ec2, "describe_network_interfaces", "NetworkInterfaces",
                            Filters=[{"Name": "group-id", "Values": [resource_id]}])
        by_instance, by_interface = _users(instances, interfaces)
        return self._snapshot(group, region, by_instance.get(resource_id, ()), by_interface.get(resource_id, ()))

    def _snapshot(self, group: dict[str, Any], region: str, instance_ids: Iterable[str],
                  interface_ids: Iterable[str]) -> Snapshot:
        group_id = group["GroupId"]
        relationships = _relationships([
            ("Is contained in Vpc", VPC, group.get("VpcId")),
            *(("Is associated with Instance", INSTANCE, i) for i in instance_ids),
            *(("Is associated with NetworkInterface", NETWORK_INTERFACE, e) for e in interface_ids),
        ])
        return Snapshot(
            resource_type=self.resource_type,
            resource_id=group_id,
            region=region,
            configuration=_configuration(group),
            arn=_arn(region, group.get("OwnerId", ""), "security-group", group_id),
            name=group.get("GroupName") or group_id,
            tags=_tags(group),
            relationships=relationships,
        )


class InstanceCollector(_Ec2Collector):
    """AWS::EC2::Instance; a terminated instance counts as deleted."""

    resource_type = INSTANCE

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        for instance, owner in _instances(_pages(self._ec2(clients, region), "describe_instances", "Reservations")):
            yield self._snapshot(instance, owner, region)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        reservations = _describe(self._ec2(clients, region), "describe_instances", "Reservations", _NO_INSTANCE,
                                 InstanceIds=[resource_id])
        for instance, owner in _instances(reservations):
            if instance.get("InstanceId") == resource_id:
                return self._snapshot(instance, owner, region)
        return None

    def _snapshot(self, instance: dict[str, Any], owner: str, region: str) -> Snapshot:
        instance_id = instance["InstanceId"]
        volumes = [(m.get("Ebs") or {}).get("VolumeId") for m in instance.get("BlockDeviceMappings") or []]
        relationships = _relationships([
            ("Is contained in Subnet", SUBNET, instance.get("SubnetId")),
            ("Is contained in Vpc", VPC, instance.get("VpcId")),
            *(("Is associated with SecurityGroup", SECURITY_GROUP, g)
              for g in _group_ids(instance.get("SecurityGroups"))),
            *(("Contains NetworkInterface", NETWORK_INTERFACE, n.get("NetworkInterfaceId"))
              for n in instance.get("NetworkInterfaces") or []),
            *(("Is attached to Volume", VOLUME, v) for v in volumes),
        ])
        return Snapshot(
            resource_type=self.resource_type,
            resource_id=instance_id,
            region=region,
            configuration=_configuration(instance),
            arn=_arn(region, owner, "instance", instance_id),
            name=_name(instance, instance_id),
            tags=_tags(instance),
            relationships=relationships,
            created=utc(instance.get("LaunchTime")),
        )


class VpcCollector(_Ec2Collector):
    """AWS::EC2::VPC. No relationships: what a VPC contains points at it from the other side."""

    resource_type = VPC

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        for vpc in _pages(self._ec2(clients, region), "describe_vpcs", "Vpcs"):
            yield self._snapshot(vpc, region)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        vpcs = _describe(self._ec2(clients, region), "describe_vpcs", "Vpcs", _NO_VPC, VpcIds=[resource_id])
        vpc = next((v for v in vpcs if v.get("VpcId") == resource_id), None)
        return None if vpc is None else self._snapshot(vpc, region)

    def _snapshot(self, vpc: dict[str, Any], region: str) -> Snapshot:
        vpc_id = vpc["VpcId"]
        return Snapshot(
            resource_type=self.resource_type,
            resource_id=vpc_id,
            region=region,
            configuration=_configuration(vpc),
            arn=_arn(region, vpc.get("OwnerId", ""), "vpc", vpc_id),
            name=_name(vpc, vpc_id),
            tags=_tags(vpc),
        )


class SubnetCollector(_Ec2Collector):
    """AWS::EC2::Subnet, contained in its VPC. The free address count is left out (see _SUBNET_VOLATILE)."""

    resource_type = SUBNET

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        for subnet in _pages(self._ec2(clients, region), "describe_subnets", "Subnets"):
            yield self._snapshot(subnet, region)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        subnets = _describe(self._ec2(clients, region), "describe_subnets", "Subnets", _NO_SUBNET,
                            SubnetIds=[resource_id])
        subnet = next((s for s in subnets if s.get("SubnetId") == resource_id), None)
        return None if subnet is None else self._snapshot(subnet, region)

    def _snapshot(self, subnet: dict[str, Any], region: str) -> Snapshot:
        subnet_id = subnet["SubnetId"]
        return Snapshot(
            resource_type=self.resource_type,
            resource_id=subnet_id,
            region=region,
            configuration=_configuration(subnet, _SUBNET_VOLATILE),
            arn=_arn(region, subnet.get("OwnerId", ""), "subnet", subnet_id),
            name=_name(subnet, subnet_id),
            tags=_tags(subnet),
            relationships=_relationships([("Is contained in Vpc", VPC, subnet.get("VpcId"))]),
        )


class NetworkInterfaceCollector(_Ec2Collector):
    """AWS::EC2::NetworkInterface: its groups, subnet and VPC, and the instance it is attached to."""

    resource_type = NETWORK_INTERFACE

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        for interface in _pages(self._ec2(clients, region), "describe_network_interfaces", "NetworkInterfaces"):
            yield self._snapshot(interface, region)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        interfaces = _describe(self._ec2(clients, region), "describe_network_interfaces", "NetworkInterfaces",
                               _NO_INTERFACE, NetworkInterfaceIds=[resource_id])
        interface = next((n for n in interfaces if n.get("NetworkInterfaceId") == resource_id), None)
        return None if interface is None else self._snapshot(interface, region)

    def _snapshot(self, interface: dict[str, Any], region: str) -> Snapshot:
        interface_id = interface["NetworkInterfaceId"]
        relationships = _relationships([
            *(("Is associated with SecurityGroup", SECURITY_GROUP, g) for g in _group_ids(interface.get("Groups"))),
            ("Is contained in Subnet", SUBNET, interface.get("SubnetId")),
            ("Is contained in Vpc", VPC, interface.get("VpcId")),
            ("Is attached to Instance", INSTANCE, (interface.get("Attachment") or {}).get("InstanceId")),
        ])
        return Snapshot(
            resource_type=self.resource_type,
            resource_id=interface_id,
            region=region,
            configuration=_configuration(interface),
            arn=_arn(region, interface.get("OwnerId", ""), "network-interface", interface_id),
            name=_name(interface, interface_id),
            tags=_tags(interface),
            relationships=relationships,
        )


class FlowLogCollector(_Ec2Collector):
    """AWS::EC2::FlowLog, associated with the VPC, subnet or ENI it watches.

    A flow log's description carries no account id, so its ARN takes the account from STS
    (GetCallerIdentity, once per scan and only when there is a flow log to name)."""

    resource_type = FLOW_LOG

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        flow_logs = list(_pages(self._ec2(clients, region), "describe_flow_logs", "FlowLogs"))
        if not flow_logs:
            return
        account = _account(clients, region)
        for flow_log in flow_logs:
            yield self._snapshot(flow_log, region, account)

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        flow_logs = _describe(self._ec2(clients, region), "describe_flow_logs", "FlowLogs", _NO_FLOW_LOG,
                              FlowLogIds=[resource_id])
        flow_log = next((f for f in flow_logs if f.get("FlowLogId") == resource_id), None)
        if flow_log is None:
            return None
        return self._snapshot(flow_log, region, _account(clients, region))

    def _snapshot(self, flow_log: dict[str, Any], region: str, account: str) -> Snapshot:
        flow_log_id = flow_log["FlowLogId"]
        target = flow_log.get("ResourceId") or ""
        relationships = _relationships(
            (f"Is associated with {word}", kind, target)
            for prefix, word, kind in _FLOW_LOG_TARGETS if target.startswith(prefix))
        return Snapshot(
            resource_type=self.resource_type,
            resource_id=flow_log_id,
            region=region,
            configuration=_configuration(flow_log),
            arn=_arn(region, account, "vpc-flow-log", flow_log_id),
            name=_name(flow_log, flow_log_id),
            tags=_tags(flow_log),
            relationships=relationships,
        )


def _account(clients: Clients, region: str) -> str:
    return str(clients("sts", region).get_caller_identity().get("Account", ""))


COLLECTORS: tuple[Collector, ...] = (
    SecurityGroupCollector(),
    InstanceCollector(),
    VpcCollector(),
    SubnetCollector(),
    NetworkInterfaceCollector(),
    FlowLogCollector(),
)
