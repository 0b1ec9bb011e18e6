"""Network actions: revoke world-open ingress from a security group, enable a VPC's flow logs.

"Open to the world" is decided as the network rules decide it (``remediation.rules.managed_network``): a /0
of either family whatever its address bits, protocol -1 is every port. Only the world entries go: a rule's
other CIDRs, prefix lists and group pairs stay.
"""

from __future__ import annotations

from typing import Any

from audit.config.base import Clients, lower_camel
from audit.config.collectors.ec2 import (
    FlowLogCollector,
    SecurityGroupCollector,
    VpcCollector,
)
from remediation.actions.base import Action, ActionError, Plan, Target, document
from remediation.rules.base import COMPLIANT, ResourceView
from remediation.rules.managed_common import parse_port
from remediation.rules.managed_network import (
    Opening,
    VpcFlowLogsEnabled,
    is_world,
    world_openings,
)

__all__ = ["EnableVpcFlowLogs", "RevokeWorldIngress"]

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
VPC = "AWS::EC2::VPC"
FLOW_LOG = "AWS::EC2::FlowLog"
FLOW_LOG_GROUP = "guardrail-flow-logs"  # the CloudWatch Logs group when no destination is named
TRAFFIC_TYPES = ("ACCEPT", "REJECT", "ALL")


def _ports(target: Target) -> list[int]:
    """details.ports as port numbers (ValueError naming a bad one)."""
    ports = target.details.get("ports") or []
    return [parse_port(str(port)) for port in ([ports] if isinstance(ports, int | str) else ports)]


def _offending(openings: list[Opening], ports: list[int], protocol: str) -> list[Opening]:
    """The world openings to remove: all of them, or those letting in one of `ports` (of `protocol`)."""
    if not ports:
        return openings
    return [o for o in openings if any(o.covers(port, protocol) for port in ports)]


def _cidrs(items: Any, key: str, cidrs: set[str]) -> list[str]:
    """The world CIDRs among `items` (a lowerCamel permission's ipRanges or ipv6Ranges) that are in `cidrs`.

    An item is {cidrIp: ...} / {cidrIpv6: ...}, or the CIDR itself as AWS Config's items give ipRanges; read as
    the network rules read them (``managed_network._sources``), so a removed opening always has its entry."""
    found: list[str] = []
    for item in items or []:
        cidr = (item.get(key) or (item.get("cidrIpv4") if key == "cidrIp" else None) or "") if isinstance(
            item, dict) else str(item)
        if is_world(cidr) and cidr.strip() in cidrs and cidr not in found:
            found.append(cidr)
    return found


def _revocation(permission: dict[str, Any], cidrs: set[str]) -> dict[str, Any]:
    """The RevokeSecurityGroupIngress entry (AWS's CamelCase) that removes `cidrs` from one permission, given
    as the recorder stores it (lowerCamel keys), and nothing else."""
    protocol = permission.get("ipProtocol")
    entry: dict[str, Any] = {"IpProtocol": "-1" if protocol is None else protocol}  # as the rules read it
    for key, name in (("fromPort", "FromPort"), ("toPort", "ToPort")):
        if permission.get(key) is not None:
            entry[name] = permission[key]
    v4 = [{"CidrIp": cidr} for cidr in _cidrs(permission.get("ipRanges"), "cidrIp", cidrs)]
    v6 = [{"CidrIpv6": cidr} for cidr in _cidrs(permission.get("ipv6Ranges"), "cidrIpv6", cidrs)]
    if v4:
        entry["IpRanges"] = v4
    if v6:
        entry["Ipv6Ranges"] = v6
    return entry


class RevokeWorldIngress(Action):
    """details: "ports" (optional, e.g. [22]): only the world entries that let one of these ports in;
    "protocol" (optional, "tcp" by default): the ports' protocol."""

    name = "revoke_world_ingress"
    title = "Revoke ingress open to the world"
    api_call = "ec2:RevokeSecurityGroupIngress"
    resource_types = (SECURITY_GROUP,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        answer = clients("ec2", target.region).describe_security_groups(GroupIds=[target.resource_id])
        group = next((g for g in answer.get("SecurityGroups") or [] if g.get("GroupId") == target.resource_id), None)
        if group is None:
            return self.blocked_plan(target, f"Security group {target.resource_id} does not exist")
        return self._plan_from(target, lower_camel(group.get("IpPermissions") or []))

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From configuration.ipPermissions (lowerCamel: ipProtocol, fromPort, toPort, ipRanges [{cidrIp}],
        ipv6Ranges [{cidrIpv6}], prefixListIds, userIdGroupPairs); the call's parameters are AWS's CamelCase."""
        if recorded is None:
            return self.nothing_recorded(target)
        permissions = (recorded.get("configuration") or {}).get("ipPermissions")
        if not isinstance(permissions, list):
            return self.not_recorded(target, "configuration.ipPermissions")
        return self._plan_from(target, permissions)

    def _plan_from(self, target: Target, permissions: list[dict[str, Any]]) -> Plan:
        """The plan for the group whose ingress permissions are `permissions` (lowerCamel, as recorded)."""
        try:
            ports = _ports(target)
        except ValueError as exc:
            return self.blocked_plan(target, f"details.ports: {exc}")
        protocol = str(target.details.get("protocol") or "tcp").lower()
        entries, removed = [], []
        for permission in permissions:
            openings = world_openings({"ipPermissions": [permission]}) or []
            chosen = _offending(openings, ports, protocol)
            if not chosen:
                continue
            entries.append(_revocation(permission, {o.cidr for o in chosen}))
            cidrs = list(dict.fromkeys(o.cidr for o in chosen))
            removed.append(f"{' and '.join(cidrs)} from {chosen[0].label}")
        on = f" on port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))}" if ports else ""
        if not entries:
            return self.noop_plan(target, f"Nothing to do: {target.resource_id} lets nothing in from the world{on}")
        call = self.call(self.api_call, GroupId=target.resource_id, IpPermissions=entries)
        return self.make_plan(target, [call], f"Removes {'; '.join(removed)} on {target.resource_id}; the group's "
                                              f"other sources stay")

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = SecurityGroupCollector().get(clients, target.region, target.resource_id)
        if snapshot is None:
            return False
        openings = world_openings(snapshot.configuration) or []
        protocol = str(target.details.get("protocol") or "tcp").lower()
        return not _offending(openings, _ports(target), protocol)


def _traffic(target: Target) -> str:
    return str(target.details.get("traffic_type") or "ALL").upper()


def _destination(target: Target) -> tuple[dict[str, Any] | None, str]:
    """CreateFlowLogs' destination parameters from the details, or None and what is missing."""
    details = target.details
    destination = str(details.get("log_destination") or "").strip()
    if not destination and details.get("bucket"):
        destination = f"arn:aws:s3:::{details['bucket']}"
    role = str(details.get("deliver_logs_permission_arn") or "").strip()
    kind = str(details.get("log_destination_type") or "").strip()
    if not kind:  # S3 unless a role for CloudWatch Logs is given and the destination is not a bucket
        kind = "cloud-watch-logs" if role and ":s3:::" not in destination else "s3"
    if kind == "s3":
        if not destination:
            return None, ("details.log_destination is missing: the S3 bucket for the flow logs "
                          "(arn:aws:s3:::bucket), or details.deliver_logs_permission_arn for CloudWatch Logs")
        return {"LogDestinationType": "s3", "LogDestination": destination}, ""
    if kind == "cloud-watch-logs":
        if not role:
            return None, ("details.deliver_logs_permission_arn is missing: the IAM role that lets flow logs "
                          "write to CloudWatch Logs")
        where = {"LogDestination": destination} if destination else {
            "LogGroupName": str(details.get("log_group_name") or FLOW_LOG_GROUP)}
        return {"LogDestinationType": kind, **where, "DeliverLogsPermissionArn": role}, ""
    return None, f"details.log_destination_type {kind!r} is not s3 or cloud-watch-logs"


class EnableVpcFlowLogs(Action):
    """details: "log_destination" (arn:aws:s3:::bucket[/prefix], the default kind; or a log group's ARN), or
    "bucket"; for CloudWatch Logs "deliver_logs_permission_arn" (then the group is "log_group_name" or
    guardrail-flow-logs); "traffic_type" ALL (default), ACCEPT or REJECT."""

    name = "enable_vpc_flow_logs"
    title = "Enable VPC flow logs"
    api_call = "ec2:CreateFlowLogs"
    resource_types = (VPC,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        if _traffic(target) not in TRAFFIC_TYPES:
            return self._plan_from(target, [])  # blocked before any read
        ec2 = clients("ec2", target.region)
        ec2.describe_vpcs(VpcIds=[target.resource_id])  # InvalidVpcID.NotFound when it is gone
        flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [target.resource_id]}])
        logs = [{"resource_type": FLOW_LOG, "resource_id": f["FlowLogId"], "configuration": lower_camel(f)}
                for f in flow_logs.get("FlowLogs") or []]
        return self._plan_from(target, logs)

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """recorded["related"] must hold the VPC's flow logs as they were ([] when it had none): without it, whether
        the VPC had a flow log is unknown. Entries of other types or of other resources are ignored."""
        if recorded is None:
            return self.nothing_recorded(target)
        if _traffic(target) not in TRAFFIC_TYPES:
            return self._plan_from(target, [])  # blocked: the details come first, as in `plan`
        related = recorded.get("related")
        if not isinstance(related, list):
            return self.not_recorded(target, "related flow logs (recorded[\"related\"])")
        logs = [r for r in related if isinstance(r, dict) and r.get("resource_type") == FLOW_LOG
                and (r.get("configuration") or {}).get("resourceId") == target.resource_id]
        return self._plan_from(target, logs)

    def _plan_from(self, target: Target, logs: list[dict[str, Any]]) -> Plan:
        """The plan for the VPC whose flow logs are `logs` ({resource_type, resource_id, configuration})."""
        traffic = _traffic(target)
        if traffic not in TRAFFIC_TYPES:
            return self.blocked_plan(target, f"details.traffic_type {traffic!r} is not one of ACCEPT, REJECT, ALL")
        covered = self._covered(target, logs, traffic)
        if covered:
            return self.noop_plan(target, f"Nothing to do: {covered}")
        where, missing = _destination(target)
        if where is None:
            return self.blocked_plan(target, missing)
        call = self.call(self.api_call, ResourceIds=[target.resource_id], ResourceType="VPC", TrafficType=traffic,
                         **where)
        shown = where.get("LogDestination") or f"CloudWatch Logs group {where.get('LogGroupName')}"
        return self.make_plan(target, [call], f"Creates a flow log of {traffic} traffic for {target.resource_id} "
                                              f"delivered to {shown}")

    @staticmethod
    def _covered(target: Target, logs: list[dict[str, Any]], traffic: str) -> str:
        """The rule's annotation when vpc-flow-logs-enabled finds the VPC compliant, else ""."""
        view = ResourceView(VPC, target.resource_id, target.account_id, target.region, {}, related=logs)
        verdict = VpcFlowLogsEnabled().evaluate(view, {"trafficType": traffic})
        return verdict.annotation if verdict.status == COMPLIANT else ""

    def check_answer(self, call: dict[str, Any], answer: dict[str, Any]) -> None:
        for failure in answer.get("Unsuccessful") or []:
            error = failure.get("Error") or {}
            raise ActionError(str(error.get("Code") or "Unsuccessful"), str(error.get("Message") or failure))

    def _flow_logs(self, clients: Clients, target: Target) -> list[dict[str, Any]]:
        return [{"resource_type": FLOW_LOG, "resource_id": s.resource_id, "configuration": s.configuration}
                for s in FlowLogCollector().scan(clients, target.region)
                if s.configuration.get("resourceId") == target.resource_id]

    def verify(self, clients: Clients, target: Target) -> bool:
        if VpcCollector().get(clients, target.region, target.resource_id) is None:
            return False
        traffic = _traffic(target)
        return bool(self._covered(target, self._flow_logs(clients, target), traffic))

    def document(self, clients: Clients, target: Target) -> dict[str, Any] | None:
        """The VPC's document with its flow logs (whose appearance is the change)."""
        found = document(VpcCollector().get(clients, target.region, target.resource_id))
        if found is not None:
            found["flowLogs"] = [log["configuration"] for log in self._flow_logs(clients, target)]
        return found
