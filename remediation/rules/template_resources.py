"""Guardrails at creation: the resources a CloudFormation template would create, as the recorder would see them.

``resources_from_template`` reads a parsed template (catalog.cfn.loader: plain data, long-form intrinsics) with
the launch's parameter values and gives one ResourceView per resource of a recorded type, in the shape the
recorder's collectors give the real resource (audit.config.collectors), so the same rules evaluate both.

Shape decisions:

* resource_id is the logical id; context is ``{"planned": True, "logical_id": ..., "unresolved": [paths]}``.
* Ids AWS assigns at creation (groupId, instanceId, vpcId; a bucket, DB or user name left to CloudFormation) are
  the logical id, as is Ref (or GetAtt ...GroupId) to a planned resource, so references line up.
* What cannot be told before launch (a parameter with neither value nor Default, SSM parameters, Fn::GetAZs, most
  GetAtts, owner ids, dates; RDS PubliclyAccessible left out) is None, its path in ``context["unresolved"]``
  (declarative rules answer INSUFFICIENT_DATA on it). Fixed AWS defaults are filled in (a group's allow-all
  egress, InstanceType m1.small, StorageEncrypted false). A resource whose Condition is undecided is planned.
* A setting the template does not make is absent, as the sandbox's recorder shows it: no BucketEncryption or
  PublicAccessBlockConfiguration -> None (real S3 applies SSE-S3 and a full block to new buckets since 2023).
* Tags: the resource's Tags plus the launch's for keys it does not set; no aws:cloudformation:* tags.
* A bucket's policy comes from the AWS::S3::BucketPolicy naming it (unknown parts null); separate
  AWS::EC2::SecurityGroupIngress/Egress resources join the planned group they name.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from audit.config.base import GLOBAL, lower_camel
from remediation.rules.base import ResourceView
from remediation.rules.declarative import render_key

__all__ = ["FIXES", "RECORDED_TYPES", "UNKNOWN", "resources_from_template", "secure_defaults"]

SG, INSTANCE, VPC = "AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::EC2::VPC"
BUCKET, DB, USER = "AWS::S3::Bucket", "AWS::RDS::DBInstance", "AWS::IAM::User"
RECORDED_TYPES = (SG, INSTANCE, VPC, BUCKET, DB, USER)
FIXES = ("encryption", "public_access_block", "tags")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_LOGS = "http://acs.amazonaws.com/groups/s3/LogDelivery"
_CANNED = {  # CloudFormation's AccessControl -> grants besides the owner's FULL_CONTROL (S3's canned ACLs)
    "PublicRead": [(ALL_USERS, "READ")], "PublicReadWrite": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
    "AuthenticatedRead": [("http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "READ")],
    "LogDeliveryWrite": [(_LOGS, "READ_ACP"), (_LOGS, "WRITE")]}
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_ID_ATTRIBUTES = frozenset({"GroupId", "VpcId", "InstanceId", "Id"})  # GetAtts that give the planned id
_NAME_PROPERTY = {BUCKET: "BucketName", DB: "DBInstanceIdentifier", USER: "UserName"}  # what Ref gives, if set
_FROM_ELSEWHERE = ("DBClusterIdentifier", "DBSnapshotIdentifier", "SourceDBInstanceIdentifier")  # RDS storage
_SUB = re.compile(r"\$\{([^}]*)\}")
_BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Types whose Tags property is a list of {Key, Value} (besides any resource that already has such a list).
_TAGGABLE = frozenset({*RECORDED_TYPES, *(f"AWS::{t}" for t in (
    "EC2::Subnet", "EC2::InternetGateway", "EC2::RouteTable", "EC2::NatGateway", "EC2::EIP", "EC2::NetworkAcl",
    "EC2::Volume", "EC2::NetworkInterface", "EC2::TransitGateway", "EC2::VPNGateway", "EC2::CustomerGateway",
    "EC2::DHCPOptions", "RDS::DBCluster", "RDS::DBSubnetGroup", "RDS::DBParameterGroup", "RDS::OptionGroup",
    "RDS::DBClusterParameterGroup", "IAM::Role", "DynamoDB::Table", "SQS::Queue", "SNS::Topic", "Lambda::Function",
    "KMS::Key", "Logs::LogGroup", "ElasticLoadBalancingV2::LoadBalancer", "ElasticLoadBalancingV2::TargetGroup",
    "CloudTrail::Trail", "SecretsManager::Secret", "ECR::Repository", "ECS::Cluster", "Kinesis::Stream"))})


# A value the template cannot tell before launch; None (its path in context["unresolved"]) in the views.
UNKNOWN = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()
_NO_VALUE = object()  # AWS::NoValue: the property is left out


def _string(value: Any) -> Any:
    """CloudFormation's string of a scalar (true -> "true"); UNKNOWN stays."""
    if value is UNKNOWN or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return UNKNOWN if isinstance(value, dict | list) or value is None else str(value)


def _bool(value: Any, default: Any = False) -> Any:
    text = default if value is None else _string(value)
    return text.lower() == "true" if isinstance(text, str) else text


def _int(value: Any, default: Any = None) -> Any:
    text = _string(value) if value is not None else default
    try:
        return int(text) if isinstance(text, str) else text
    except ValueError:
        return UNKNOWN


def _items(value: Any) -> list[Any]:
    """A list property as a list: [] when left out, [UNKNOWN] when it is not known (some unknown items)."""
    return value if isinstance(value, list) else [] if value is None else [UNKNOWN]


def _get(value: Any, key: str, default: Any = None) -> Any:
    """`value[key]` of a mapping property; UNKNOWN when the mapping itself is not known."""
    return UNKNOWN if value is UNKNOWN else value.get(key, default) if isinstance(value, dict) else default


def _sorted(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=repr))


def _given(**values: Any) -> dict[str, Any]:
    """The keys whose value the template gives (not None): describe calls leave out what a resource lacks."""
    return {k: v for k, v in values.items() if v is not None}


class _Plan:
    """A template for one launch: its values (Ref, Fn::Sub/Join/Select/Split/If/FindInMap/Base64), Conditions,
    and the resources it creates."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str], account_id: str, region: str,
                 stack_name: str | None):
        self.account_id = account_id
        self.resources = {k: v for k, v in (template.get("Resources") or {}).items() if isinstance(v, dict)}
        self.mappings = template.get("Mappings") or {}
        self.conditions = template.get("Conditions") or {}
        self._decided: dict[str, Any] = {}
        self._naming: set[str] = set()
        partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        self.values: dict[str, Any] = {
            "AWS::Region": region, "AWS::AccountId": account_id, "AWS::Partition": partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
            "AWS::StackName": stack_name or UNKNOWN, "AWS::StackId": UNKNOWN, "AWS::NotificationARNs": [],
            "AWS::NoValue": _NO_VALUE}
        for name, spec in (template.get("Parameters") or {}).items():
            kind = str(_get(spec, "Type", "String"))
            value = parameters[name] if name in parameters else _string(_get(spec, "Default", UNKNOWN))
            if kind.startswith("AWS::SSM::Parameter::Value"):
                value = UNKNOWN  # names an SSM parameter, read at launch
            elif value is not UNKNOWN and (kind.startswith("List<") or kind == "CommaDelimitedList"):
                value = [item.strip() for item in str(value).split(",")]
            self.values[name] = value
        self.created = {lid: r for lid, r in self.resources.items()
                        if r.get("Condition") is None or self.condition(r["Condition"]) is not False}

    def of_type(self, kind: str) -> list[Any]:
        """The resolved Properties of the planned resources of type `kind`."""
        return [self.value(r.get("Properties")) for r in self.created.values() if r.get("Type") == kind]

    def attached(self, kind: str, group: str) -> list[dict[str, Any]]:
        """The rules of the separate ingress/egress resources that name the planned group `group`."""
        return [r for r in self.of_type(kind) if group in (_get(r, "GroupId"), _get(r, "GroupName"))]

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key.startswith("Fn::"):
                return self._function(key, arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str) or not (name in self.values or name in self.resources):
            return UNKNOWN
        if name in self.values:
            return self.values[name]
        prop = _NAME_PROPERTY.get(self.resources[name].get("Type", ""))
        given = _get(self.resources[name].get("Properties"), prop) if prop else None
        if given is None:
            return name  # CloudFormation makes the name up: the logical id stands in
        if name in self._naming:
            return UNKNOWN  # a name that refers to itself
        self._naming.add(name)
        try:
            given = _string(self.value(given))
        finally:
            self._naming.discard(name)
        return given.lower() if isinstance(given, str) and prop == "DBInstanceIdentifier" else given

    def _get_att(self, arg: Any) -> Any:
        parts = arg.split(".", 1) if isinstance(arg, str) else arg
        if not isinstance(parts, list) or len(parts) != 2 or not isinstance(parts[0], str):
            return UNKNOWN
        return parts[0] if parts[0] in self.resources and str(self.value(parts[1])) in _ID_ATTRIBUTES else UNKNOWN

    def _function(self, key: str, arg: Any) -> Any:
        if key in ("Fn::GetAtt", "Fn::Sub", "Fn::Base64"):
            return self._get_att(arg) if key == "Fn::GetAtt" else self._sub(arg) if key == "Fn::Sub" \
                else self.value(arg)
        if key == "Fn::If":
            decided = self.condition(arg[0]) if isinstance(arg, list) and len(arg) == 3 else None
            return UNKNOWN if decided is None else self.value(arg[1] if decided else arg[2])
        args = self.value(arg)
        if not isinstance(args, list) or any(a is UNKNOWN for a in args):
            return UNKNOWN
        try:
            if key == "Fn::Join":
                items = [_string(item) for item in args[1]]
                return UNKNOWN if UNKNOWN in items else str(args[0]).join(items)
            if key == "Fn::Select":
                return args[1][int(args[0])]
            if key == "Fn::Split":
                return str(args[1]).split(str(args[0]))
            if key == "Fn::FindInMap":
                found = self.mappings.get(args[0], {}).get(_string(args[1]), {}).get(_string(args[2]), _NO_VALUE)
                if found is _NO_VALUE and len(args) > 3:
                    found = _get(args[3], "DefaultValue", _NO_VALUE)
                return UNKNOWN if found is _NO_VALUE else self.value(found)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            return UNKNOWN
        return UNKNOWN  # Fn::GetAZs, Fn::ImportValue, Fn::Cidr ...: known only at launch

    def _sub(self, arg: Any) -> Any:
        text, local = (arg[0], self.value(arg[1]) if len(arg) > 1 else {}) if isinstance(arg, list) else (arg, {})
        if not isinstance(text, str) or not isinstance(local, dict):
            return UNKNOWN
        values = {n: "${" + n[1:] + "}" if n.startswith("!") else _string(
            local[n] if n in local else self.ref(n) if "." not in n else self._get_att(n)) for n in _SUB.findall(text)}
        return UNKNOWN if any(v is UNKNOWN for v in values.values()) else _SUB.sub(lambda m: values[m[1]], text)

    def condition(self, node: Any) -> bool | None:
        """True/False, or None when it hangs on something unknown."""
        if isinstance(node, str):
            if node not in self._decided:
                self._decided[node] = None  # a condition that refers to itself stays undecided
                self._decided[node] = self.condition(self.conditions.get(node))
            return self._decided[node]
        if not isinstance(node, dict) or len(node) != 1:
            return None
        (key, arg), = node.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
            left, right = (_string(self.value(a)) for a in arg)
            return None if UNKNOWN in (left, right) else left == right
        parts = [self.condition(a) for a in arg] if isinstance(arg, list) else []
        if key == "Fn::Not" and len(parts) == 1:
            return None if parts[0] is None else not parts[0]
        if key in ("Fn::And", "Fn::Or") and parts:
            decisive = key == "Fn::Or"  # Or: one True decides; And: one False does
            return decisive if decisive in parts else None if None in parts else not decisive
        return None


def _permissions(rules: Any, account_id: str) -> Any:
    """CloudFormation ingress/egress rules as EC2's IpPermissions, merged by (protocol, ports) as EC2 does."""
    if not isinstance(rules, list):
        return UNKNOWN
    merged: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for rule in (r for r in rules if isinstance(r, dict)):
        protocol = _string(rule.get("IpProtocol", UNKNOWN))
        protocol = _PROTOCOLS.get(protocol, protocol.lower()) if isinstance(protocol, str) else protocol
        ports = {} if protocol == "-1" else {"fromPort": _int(rule.get("FromPort"), UNKNOWN),
                                              "toPort": _int(rule.get("ToPort"), UNKNOWN)}
        permission = merged.setdefault((protocol, ports.get("fromPort"), ports.get("toPort")), {
            "ipProtocol": protocol, **ports, "userIdGroupPairs": [], "ipRanges": [], "ipv6Ranges": [],
            "prefixListIds": []})
        extra = _given(description=rule.get("Description"))
        group = rule.get("SourceSecurityGroupId", rule.get("DestinationSecurityGroupId"))
        prefix_list = rule.get("SourcePrefixListId", rule.get("DestinationPrefixListId"))
        if "CidrIp" in rule:
            permission["ipRanges"].append({"cidrIp": rule["CidrIp"], **extra})
        elif "CidrIpv6" in rule:
            permission["ipv6Ranges"].append({"cidrIpv6": rule["CidrIpv6"], **extra})
        elif group is not None or "SourceSecurityGroupName" in rule:
            pair = {"groupId": group} if group is not None else {"groupName": rule["SourceSecurityGroupName"]}
            owner = rule.get("SourceSecurityGroupOwnerId", account_id)
            permission["userIdGroupPairs"].append({**pair, "userId": owner, **extra})
        elif prefix_list is not None:
            permission["prefixListIds"].append({"prefixListId": prefix_list, **extra})
    return list(merged.values())


def _security_group(lid: str, p: dict[str, Any], plan: _Plan) -> tuple[dict, dict, list]:
    ingress = p.get("SecurityGroupIngress", [])
    # EC2 gives every new group an allow-all egress rule unless the template states its own
    egress = p.get("SecurityGroupEgress", [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}])
    if isinstance(ingress, list):
        ingress = ingress + plan.attached("AWS::EC2::SecurityGroupIngress", lid)
    if isinstance(egress, list):
        egress = egress + plan.attached("AWS::EC2::SecurityGroupEgress", lid)
    configuration = {
        "groupId": lid, "groupName": p.get("GroupName", lid), "description": p.get("GroupDescription", UNKNOWN),
        "ownerId": plan.account_id, **_given(vpcId=p.get("VpcId")),
        "ipPermissions": _permissions(ingress, plan.account_id),
        "ipPermissionsEgress": _permissions(egress, plan.account_id)}
    return configuration, {}, [("Is contained in Vpc", VPC, p.get("VpcId"))]


def _instance(lid: str, p: dict[str, Any], plan: _Plan) -> tuple[dict, dict, list]:
    interfaces = [n for n in _items(p.get("NetworkInterfaces")) if isinstance(n, dict)]
    group_ids = _items(p.get("SecurityGroupIds")) + [g for n in interfaces for g in _items(n.get("GroupSet"))]
    planned = {g: plan.value(r.get("Properties")) for g, r in plan.created.items() if r.get("Type") == SG}
    groups = [{"groupId": g, "groupName": _get(planned[g], "GroupName", g)} if _string(g) in planned else {key: g}
              for key, items in (("groupId", group_ids), ("groupName", _items(p.get("SecurityGroups"))))
              for g in items]
    subnet = p.get("SubnetId", next((n["SubnetId"] for n in interfaces if "SubnetId" in n), None))
    profile = {"arn": UNKNOWN, "id": UNKNOWN} if "IamInstanceProfile" in p else None
    metadata = lower_camel(p["MetadataOptions"]) if "MetadataOptions" in p else None
    configuration = {
        "instanceId": lid, "imageId": p.get("ImageId", UNKNOWN), "instanceType": p.get("InstanceType", "m1.small"),
        "state": {"code": 0, "name": "pending"}, "securityGroups": groups,
        "monitoring": {"state": {True: "enabled", False: "disabled"}.get(_bool(p.get("Monitoring")), UNKNOWN)},
        "ebsOptimized": _bool(p.get("EbsOptimized")),
        "placement": {"availabilityZone": p.get("AvailabilityZone", UNKNOWN), "tenancy": p.get("Tenancy", "default")},
        **_given(keyName=p.get("KeyName"), subnetId=subnet, iamInstanceProfile=profile, metadataOptions=metadata)}
    related = [("Is associated with SecurityGroup", SG, g.get("groupId", g.get("groupName"))) for g in groups]
    return configuration, {}, [*related, ("Is contained in Subnet", "AWS::EC2::Subnet", subnet)]


def _vpc(lid: str, p: dict[str, Any], plan: _Plan) -> tuple[dict, dict, list]:
    cidr = p.get("CidrBlock", UNKNOWN)
    return {"vpcId": lid, "cidrBlock": cidr, "state": "pending", "ownerId": plan.account_id, "isDefault": False,
            "instanceTenancy": p.get("InstanceTenancy", "default"), "dhcpOptionsId": UNKNOWN,
            "cidrBlockAssociationSet": [{"associationId": UNKNOWN, "cidrBlock": cidr,
                                         "cidrBlockState": {"state": "associated"}}],
            "ipv6CidrBlockAssociationSet": []}, {}, []


def _bucket(lid: str, p: dict[str, Any], plan: _Plan) -> tuple[dict, dict, list]:
    name, acl = plan.ref(lid), p.get("AccessControl")
    grants = [{"grantee": {"iD": UNKNOWN, "type": "CanonicalUser"}, "permission": "FULL_CONTROL"}]
    grants += [{"grantee": UNKNOWN, "permission": UNKNOWN}] if acl is UNKNOWN else [
        {"grantee": {"type": "Group", "uRI": uri}, "permission": grant} for uri, grant in _CANNED.get(_string(acl), [])]
    encryption = _get(p.get("BucketEncryption"), "ServerSideEncryptionConfiguration")
    block, logging = p.get("PublicAccessBlockConfiguration"), p.get("LoggingConfiguration")
    policies = [_get(properties, "PolicyDocument") for properties in plan.of_type("AWS::S3::BucketPolicy")
                if name is not UNKNOWN and _get(properties, "Bucket") == name]
    supplementary = {
        "AccessControlList": {"owner": {"displayName": UNKNOWN, "iD": UNKNOWN}, "grants": _sorted(grants)},
        "BucketPolicy": {"policyText": json.dumps(_known(policies[-1])) if policies else None},
        "PublicAccessBlockConfiguration": None if block is None else {
            k[:1].lower() + k[1:]: _bool(_get(block, k)) for k in _BLOCKS},
        "ServerSideEncryptionConfiguration": None if encryption is None else {"rules": _sorted([
            {"applyServerSideEncryptionByDefault": lower_camel(_get(r, "ServerSideEncryptionByDefault", UNKNOWN)),
             "bucketKeyEnabled": _bool(_get(r, "BucketKeyEnabled"))} for r in _items(encryption)])},
        "BucketVersioningConfiguration": {"status": _get(p.get("VersioningConfiguration"), "Status", "Off"),
                                          "isMfaDeleteEnabled": None},
        "BucketLoggingConfiguration": {"destinationBucketName": None, "logFilePrefix": None} if logging is None else {
            "destinationBucketName": _get(logging, "DestinationBucketName", name),  # none given: the bucket itself
            "logFilePrefix": _get(logging, "LogFilePrefix", "")}}
    configuration = {"name": name, "owner": {"displayName": UNKNOWN, "id": UNKNOWN}, "creationDate": UNKNOWN}
    return configuration, supplementary, []


def _db_instance(lid: str, p: dict[str, Any], plan: _Plan) -> tuple[dict, dict, list]:
    groups = [{"vpcSecurityGroupId": g, "status": "active"} for g in _items(p.get("VPCSecurityGroups"))]
    subnet_group = p.get("DBSubnetGroupName")
    configuration = {
        "dBInstanceIdentifier": plan.ref(lid), "dBInstanceClass": p.get("DBInstanceClass", UNKNOWN),
        "engine": p.get("Engine", UNKNOWN), "engineVersion": p.get("EngineVersion", UNKNOWN),
        "dBInstanceStatus": "creating", "masterUsername": p.get("MasterUsername", UNKNOWN),
        "allocatedStorage": _int(p.get("AllocatedStorage"), UNKNOWN),
        "storageEncrypted": _bool(p.get("StorageEncrypted"), UNKNOWN if set(p) & set(_FROM_ELSEWHERE) else False),
        "publiclyAccessible": _bool(p.get("PubliclyAccessible"), UNKNOWN),
        "multiAZ": _bool(p.get("MultiAZ")), "backupRetentionPeriod": _int(p.get("BackupRetentionPeriod"), "1"),
        "autoMinorVersionUpgrade": _bool(p.get("AutoMinorVersionUpgrade"), "true"),
        "deletionProtection": _bool(p.get("DeletionProtection")),
        "iAMDatabaseAuthenticationEnabled": _bool(p.get("EnableIAMDatabaseAuthentication")),
        "copyTagsToSnapshot": _bool(p.get("CopyTagsToSnapshot")),
        "monitoringInterval": _int(p.get("MonitoringInterval"), "0"),
        "enabledCloudwatchLogsExports": p.get("EnableCloudwatchLogsExports", []), "vpcSecurityGroups": groups,
        **_given(dBName=p.get("DBName"), kmsKeyId=p.get("KmsKeyId"),
                 dBSubnetGroup=None if subnet_group is None else {"dBSubnetGroupName": subnet_group})}
    related = [("Is associated with SecurityGroup", SG, g["vpcSecurityGroupId"]) for g in groups]
    return configuration, {}, [*related, ("Is associated with DBSubnetGroup", "AWS::RDS::DBSubnetGroup", subnet_group)]


def _user(lid: str, p: dict[str, Any], plan: _Plan) -> tuple[dict, dict, list]:
    name, path, profile = plan.ref(lid), p.get("Path", "/"), p.get("LoginProfile")
    inline = [q for q in _items(p.get("Policies")) if isinstance(q, dict)]
    inline += [r for r in plan.of_type("AWS::IAM::Policy") if name is not UNKNOWN and name in _items(_get(r, "Users"))]
    keys = [k for k in plan.of_type("AWS::IAM::AccessKey") if name is not UNKNOWN and _get(k, "UserName") == name]
    arn = f"arn:{plan.values['AWS::Partition']}:iam::{plan.account_id}:user{path}{name}"
    configuration = {
        "userName": name, "userId": UNKNOWN, "path": path, "createDate": UNKNOWN,
        "arn": arn if isinstance(path, str) and isinstance(name, str) else UNKNOWN,
        "permissionsBoundary": None if p.get("PermissionsBoundary") is None else {
            "permissionsBoundaryType": "PermissionsBoundaryPolicy", "permissionsBoundaryArn": p["PermissionsBoundary"]},
        "attachedManagedPolicies": _sorted([{"policyName": a.rsplit("/", 1)[-1] if isinstance(a, str) else UNKNOWN,
                                             "policyArn": a} for a in _items(p.get("ManagedPolicyArns"))]),
        "userPolicyList": _sorted([{"policyName": q.get("PolicyName", UNKNOWN),
                                    "policyDocument": q.get("PolicyDocument", UNKNOWN)} for q in inline]),
        "groupList": _sorted(_items(p.get("Groups"))), "mfaDevices": [],
        "loginProfile": None if profile is None else {
            "createDate": UNKNOWN, "passwordResetRequired": _bool(_get(profile, "PasswordResetRequired"))},
        "accessKeys": _sorted([{"accessKeyId": UNKNOWN, "status": _get(k, "Status", "Active"), "createDate": UNKNOWN}
                               for k in keys])}
    return configuration, {}, []


_BUILDERS: dict[str, Callable[[str, dict[str, Any], _Plan], tuple[dict, dict, list]]] = {
    SG: _security_group, INSTANCE: _instance, VPC: _vpc, BUCKET: _bucket, DB: _db_instance, USER: _user}
_INVERSE = {(INSTANCE, SG): "Is associated with Instance", (DB, SG): "Is associated with DBInstance"}


def _known(value: Any, where: str = "", unresolved: list[str] | None = None) -> Any:
    """`value` with UNKNOWN as None, the paths of the UNKNOWNs (declarative's syntax) added to `unresolved`."""
    if value is UNKNOWN:
        (unresolved if unresolved is not None else []).append(where.lstrip("."))
        return None
    if isinstance(value, dict):
        return {k: _known(v, f"{where}.{render_key(str(k))}", unresolved) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v, f"{where}[{i}]", unresolved) for i, v in enumerate(value)]
    return value


def resources_from_template(template: dict[str, Any], parameters: dict[str, str], *, account_id: str, region: str,
                            tags: dict[str, str], stack_name: str | None = None) -> list[ResourceView]:
    """One view per resource of a recorded type (RECORDED_TYPES) the template would create, in template order.

    `parameters`: the launch's values (a parameter without one takes its Default); `tags`: the launch's tags;
    `stack_name`, when known, resolves AWS::StackName."""
    plan = _Plan(template, parameters, account_id, region, stack_name)
    views: list[ResourceView] = []
    for lid, resource in plan.created.items():
        build = _BUILDERS.get(resource.get("Type", ""))
        if build is None:
            continue
        properties = plan.value(resource.get("Properties") or {})
        properties = properties if isinstance(properties, dict) else {}  # all unknown: an Fn::If over them all
        configuration, supplementary, links = build(lid, properties, plan)
        own = {_string(t.get("Key")): _string(t.get("Value")) for t in _items(properties.get("Tags"))
               if isinstance(t, dict) and isinstance(_string(t.get("Key")), str)}
        unresolved: list[str] = []
        data = _known({"configuration": configuration, "supplementary": supplementary,
                       "tags": {**{str(k): str(v) for k, v in tags.items()}, **own}}, "", unresolved)
        views.append(ResourceView(
            resource_type=resource["Type"], resource_id=lid, account_id=account_id,
            region=GLOBAL if resource["Type"] == USER else region,
            relationships=[{"relationshipName": name, "resourceType": kind, "resourceId": target}
                           for name, kind, target in links if isinstance(target, str)],
            configuration=data["configuration"], supplementary=data["supplementary"], tags=data["tags"],
            context={"planned": True, "logical_id": lid, "unresolved": unresolved}))
    _link(views)
    return views


def _link(views: list[ResourceView]) -> None:
    """Inverse relationships between planned resources (a group's instances), and each view's `related`."""
    by_key = {(v.resource_type, v.resource_id): v for v in views}
    linked: dict[tuple[str, str], dict[tuple[str, str], None]] = {key: {} for key in by_key}
    for key, view in by_key.items():
        for link in list(view.relationships):
            other = (link["resourceType"], link["resourceId"])
            if other in by_key and other != key:
                linked[key][other] = linked[other][key] = None
                if (name := _INVERSE.get((view.resource_type, other[0]))) is not None:
                    by_key[other].relationships.append({"relationshipName": name, "resourceType": key[0],
                                                        "resourceId": key[1]})
    for key, view in by_key.items():
        view.related = [{"resource_type": o.resource_type, "resource_id": o.resource_id,
                         "configuration": o.configuration, "tags": o.tags} for o in map(by_key.get, linked[key])]


def secure_defaults(template: dict[str, Any], fixes: set[str], *,
                    tags: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """A changed copy of `template` and one plain-language line per change, for `fixes` (some of FIXES): encryption
    (S3 buckets without BucketEncryption get SSE-S3 AES256; RDS instances StorageEncrypted true, unless a cluster,
    snapshot or source instance decides it), public_access_block (S3 buckets get all four PublicAccessBlock
    settings true and lose an AccessControl of PublicRead/PublicReadWrite), tags (every taggable resource gets the
    keys of `tags` it lacks). A resource whose Properties are an intrinsic (Fn::If ...) is left alone."""
    unknown = set(fixes) - set(FIXES)
    if unknown:
        raise ValueError(f"unknown fix {', '.join(sorted(unknown))}; expected some of {', '.join(FIXES)}")
    changed = copy.deepcopy(template)
    lines: list[str] = []
    for lid, resource in (changed.get("Resources") or {}).items():
        p = resource.get("Properties", {}) if isinstance(resource, dict) else None
        if not isinstance(p, dict):
            continue
        kind = resource.get("Type")
        if "encryption" in fixes and kind == BUCKET and "BucketEncryption" not in p:
            p["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
            lines.append(f"S3 bucket {lid}: turned on default encryption (SSE-S3, AES-256).")
        if "encryption" in fixes and kind == DB and p.get("StorageEncrypted") not in (True, "true") and not any(
                k in p for k in _FROM_ELSEWHERE):
            p["StorageEncrypted"] = True
            lines.append(f"RDS database {lid}: turned on storage encryption.")
        if "public_access_block" in fixes and kind == BUCKET:
            block = p.get("PublicAccessBlockConfiguration")
            if not isinstance(block, dict) or any(block.get(k) not in (True, "true") for k in _BLOCKS):
                p["PublicAccessBlockConfiguration"] = dict.fromkeys(_BLOCKS, True)
                lines.append(f"S3 bucket {lid}: blocked all public access (all four public access block settings).")
            if p.get("AccessControl") in ("PublicRead", "PublicReadWrite"):
                acl = p.pop("AccessControl")
                lines.append(f"S3 bucket {lid}: removed AccessControl {acl}, which let anyone "
                             f"{'read and write' if acl == 'PublicReadWrite' else 'read'} it.")
        own = p.get("Tags", [])
        missing = [k for k in tags if k not in {t.get("Key") for t in own if isinstance(t, dict)}] \
            if "tags" in fixes and (kind in _TAGGABLE or "Tags" in p) and isinstance(own, list) else []
        if missing:
            p["Tags"] = own + [{"Key": k, "Value": tags[k]} for k in missing]
            lines.append(f"{kind} {lid}: added the tag{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
        if p and "Properties" not in resource:
            resource["Properties"] = p
    return changed, lines
