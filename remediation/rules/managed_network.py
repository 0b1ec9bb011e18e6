"""The network rules: security groups open to the world, and VPC flow logs.

"Open to the world" is an ingress source whose prefix length is 0, IPv4 or IPv6, whatever the address bits:
0.0.0.0/0 and ::/0, and also 1.2.3.4/0 or an anonymised "x.x.x.x/0" (the stdlib's ipaddress decides where it
parses; otherwise any source ending in "/0" is the world). Prefix lists and other security groups are never
the world. Protocols come as names ("tcp") or numbers ("6"); "-1" is every protocol on every port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Evaluation,
    Param,
    ResourceView,
)
from remediation.rules.managed_common import (
    ManagedRule,
    check_choice,
    check_port,
    csv_items,
    parse_port,
    parse_port_ranges,
)

__all__ = ["Opening", "RestrictedCommonPorts", "RestrictedSsh", "VpcFlowLogsEnabled",
           "VpcSgOpenOnlyToAuthorizedPorts", "is_world", "world_openings"]

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
VPC = "AWS::EC2::VPC"
FLOW_LOG = "AWS::EC2::FlowLog"
ALL_PORTS = (0, 65535)
SHOWN = 3  # offending rules named in one annotation before "+N more"

_PROTOCOLS = {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_PORTED = frozenset({"tcp", "udp"})
_TRAFFIC_TYPES = ("ACCEPT", "REJECT", "ALL")


def is_world(cidr: Any) -> bool:
    """Whether an ingress source is the whole address space: a /0 of either family, whatever its address bits."""
    text = str(cidr or "").strip()
    if not text:
        return False
    try:
        return ipaddress.ip_network(text, strict=False).prefixlen == 0
    except ValueError:
        return text.endswith("/0")


@dataclass(frozen=True)
class Opening:
    """One ingress permission's protocol and port range, open to one world CIDR."""

    protocol: str  # "tcp", "udp", "all" (protocol -1), or another name/number (icmp, 50 ...)
    start: int
    end: int
    cidr: str

    def covers(self, port: int, protocol: str = "tcp") -> bool:
        return self.protocol == "all" or (self.protocol == protocol and self.start <= port <= self.end)

    @property
    def ports(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"

    @property
    def label(self) -> str:
        if self.protocol == "all":
            return "all traffic"
        if self.protocol in _PORTED:
            return f"{self.protocol} {self.ports}"
        return f"protocol {self.protocol}"


def _protocol(value: Any) -> str:
    text = str(value if value is not None else "-1").strip().lower()
    return _PROTOCOLS.get(text, text)


def _port_range(permission: dict[str, Any], protocol: str) -> tuple[int, int]:
    if protocol == "all":
        return ALL_PORTS
    start, end = permission.get("fromPort"), permission.get("toPort")
    if protocol in _PORTED and (not isinstance(start, int) or not isinstance(end, int) or start < 0 or end < 0):
        return ALL_PORTS  # a TCP/UDP permission without ports allows them all
    return (start if isinstance(start, int) else -1, end if isinstance(end, int) else -1)


def _sources(permission: dict[str, Any]) -> Iterable[str]:
    for item in permission.get("ipRanges") or []:
        yield (item.get("cidrIp") or item.get("cidrIpv4") or "") if isinstance(item, dict) else str(item)
    for item in permission.get("ipv6Ranges") or []:
        yield (item.get("cidrIpv6") or "") if isinstance(item, dict) else str(item)


def world_openings(configuration: dict[str, Any]) -> list[Opening] | None:
    """Every (protocol, ports, world CIDR) the group's ingress permissions allow; None without ipPermissions."""
    permissions = configuration.get("ipPermissions")
    if permissions is None:
        return None
    found = []
    for permission in permissions:
        protocol = _protocol(permission.get("ipProtocol"))
        start, end = _port_range(permission, protocol)
        found += [Opening(protocol, start, end, cidr.strip()) for cidr in _sources(permission) if is_world(cidr)]
    return found


def _summary(items: list[str]) -> str:
    shown = "; ".join(items[:SHOWN])
    return shown if len(items) <= SHOWN else f"{shown}; +{len(items) - SHOWN} more"


def _port_findings(openings: list[Opening], ports: Iterable[int]) -> list[str]:
    """"Ports 20, 21 open to ::/0 (tcp 0-65535)": for each world opening, the given TCP ports it lets in."""
    wanted = list(ports)
    found = []
    for opening in openings:
        hit = [str(port) for port in wanted if opening.covers(port)]
        if hit:
            found.append(f"Port{'s' if len(hit) > 1 else ''} {', '.join(hit)} open to {opening.cidr} ({opening.label})")
    return found


class _SecurityGroupRule(ManagedRule):
    resource_types = (SECURITY_GROUP,)

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        openings = world_openings(resource.configuration)
        if openings is None:
            return Evaluation(INSUFFICIENT_DATA, "The security group's configuration has no ipPermissions")
        return self.judge(openings, params)

    def judge(self, openings: list[Opening], params: dict[str, str]) -> Evaluation:
        raise NotImplementedError


class RestrictedSsh(_SecurityGroupRule):
    name = "restricted-ssh"
    identifier = "INCOMING_SSH_DISABLED"
    description = "Security groups do not allow SSH (TCP 22) in from 0.0.0.0/0 or ::/0."

    def judge(self, openings: list[Opening], params: dict[str, str]) -> Evaluation:
        findings = _port_findings(openings, [22])
        if findings:
            return Evaluation(NON_COMPLIANT, _summary(findings))
        return Evaluation(COMPLIANT, "Port 22 is not open to 0.0.0.0/0 or ::/0")


class RestrictedCommonPorts(_SecurityGroupRule):
    name = "restricted-common-ports"
    identifier = "RESTRICTED_INCOMING_TRAFFIC"
    description = "Security groups do not allow unrestricted incoming TCP traffic to the blocked ports."
    parameters = (
        Param("blockedPort1", "int", "20", description="Blocked TCP port (FTP data)"),
        Param("blockedPort2", "int", "21", description="Blocked TCP port (FTP control)"),
        Param("blockedPort3", "int", "3389", description="Blocked TCP port (RDP)"),
        Param("blockedPort4", "int", "3306", description="Blocked TCP port (MySQL)"),
        Param("blockedPort5", "int", "4333", description="Blocked TCP port"),
        Param("blockedPorts", "csv", description="More blocked TCP ports, comma-separated"),
    )

    def check_params(self, params: dict[str, str]) -> None:
        for index in range(1, 6):
            check_port(params, f"blockedPort{index}")
        for item in csv_items(params.get("blockedPorts")):
            try:
                parse_port(item)
            except ValueError as exc:
                raise ValueError(f"blockedPorts: {exc}") from None

    @staticmethod
    def blocked(params: dict[str, str]) -> list[int]:
        ports = [int(params[f"blockedPort{i}"]) for i in range(1, 6) if f"blockedPort{i}" in params]
        ports += [parse_port(item) for item in csv_items(params.get("blockedPorts"))]
        return sorted(set(ports))

    def judge(self, openings: list[Opening], params: dict[str, str]) -> Evaluation:
        ports = self.blocked(params)
        findings = _port_findings(openings, ports)
        if findings:
            return Evaluation(NON_COMPLIANT, _summary(findings))
        return Evaluation(COMPLIANT, f"None of ports {', '.join(map(str, ports))} is open to 0.0.0.0/0 or ::/0")


def _uncovered(start: int, end: int, allowed: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first stretch of start..end that no allowed range covers; None when all of it is covered."""
    current = start
    for low, high in sorted(allowed):
        if high < current:
            continue
        if low > current:
            return current, min(low - 1, end)
        current = high + 1
        if current > end:
            return None
    return current, end


def _stretch(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"


class VpcSgOpenOnlyToAuthorizedPorts(_SecurityGroupRule):
    name = "vpc-sg-open-only-to-authorized-ports"
    identifier = "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS"
    description = ("Security groups that let 0.0.0.0/0 or ::/0 in do so only on the authorized TCP and UDP ports; "
                   "NOT_APPLICABLE for groups with no ingress from the world.")
    parameters = (
        Param("authorizedTcpPorts", description='TCP ports that may be open to the world, e.g. "443,1020-1025"'),
        Param("authorizedUdpPorts", description='UDP ports that may be open to the world, e.g. "500,1020-1025"'),
    )

    def check_params(self, params: dict[str, str]) -> None:
        for name in ("authorizedTcpPorts", "authorizedUdpPorts"):
            try:
                parse_port_ranges(params.get(name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None

    def judge(self, openings: list[Opening], params: dict[str, str]) -> Evaluation:
        if not openings:
            return Evaluation(NOT_APPLICABLE, "No ingress rule is open to 0.0.0.0/0 or ::/0")
        authorized = {"tcp": parse_port_ranges(params.get("authorizedTcpPorts")),
                      "udp": parse_port_ranges(params.get("authorizedUdpPorts"))}
        findings = []
        for opening in openings:
            if opening.protocol == "all":
                findings.append(f"All traffic open to {opening.cidr}")
            elif opening.protocol in _PORTED:
                gap = _uncovered(opening.start, opening.end, authorized[opening.protocol])
                if gap is not None:
                    allowed = params.get(f"authorized{opening.protocol.title()}Ports") or "none"
                    findings.append(f"{opening.label} open to {opening.cidr} beyond the authorized "
                                    f"{opening.protocol.upper()} ports ({allowed}): {_stretch(gap)}")
        if findings:
            return Evaluation(NON_COMPLIANT, _summary(findings))
        shown = ", ".join(sorted({f"{o.label} to {o.cidr}" for o in openings}))
        return Evaluation(COMPLIANT, f"Open to the world only on authorized ports: {shown}")


class VpcFlowLogsEnabled(ManagedRule):
    name = "vpc-flow-logs-enabled"
    identifier = "VPC_FLOW_LOGS_ENABLED"
    description = "Every VPC has an active flow log (of the given traffic type, when one is given)."
    resource_types = (VPC,)
    parameters = (Param("trafficType", description="ACCEPT, REJECT or ALL (an ALL flow log satisfies any)"),)

    def check_params(self, params: dict[str, str]) -> None:
        check_choice(params, "trafficType", _TRAFFIC_TYPES)

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        wanted = params.get("trafficType", "").upper()
        logs = [r for r in resource.related if r.get("resource_type") == FLOW_LOG
                and (r.get("configuration") or {}).get("resourceId", resource.resource_id) == resource.resource_id]
        active = [r for r in logs if (r.get("configuration") or {}).get("flowLogStatus", "ACTIVE") == "ACTIVE"]
        if not active:
            if logs:
                return Evaluation(NON_COMPLIANT, f"Flow log {logs[0].get('resource_id')} of {resource.resource_id} "
                                                 f"is not active")
            return Evaluation(NON_COMPLIANT, f"No flow log for {resource.resource_id}")
        for log in active:
            traffic = str((log.get("configuration") or {}).get("trafficType") or "").upper()
            if not wanted or traffic in (wanted, "ALL"):
                return Evaluation(COMPLIANT, f"Flow log {log.get('resource_id')} logs {traffic or 'its'} traffic")
        types = ", ".join(sorted({str((r.get("configuration") or {}).get("trafficType")) for r in active}))
        return Evaluation(NON_COMPLIANT, f"The flow logs of {resource.resource_id} log {types} traffic, not {wanted}")
