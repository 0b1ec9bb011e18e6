"""The sandbox's demo world on top of the bootstrap: the organisation, and a small network in each account.

`manage.py sandbox` builds it when SANDBOX_DEMO_NETWORK is on, through the bootstrap's clients (the portal's
role in each account), so every step is an ordinary API call in that account's CloudTrail. Every step looks
first, so running it again creates nothing.

The network, in each account's default region (or its first allowed one, when it does not allow that): VPC
demo-vpc (10.20.0.0/16), subnet demo-subnet (10.20.1.0/24), security group demo-web (443 from anywhere, 22
from 10.0.0.0/8 only), instances demo-web-1 and demo-web-2 (t3.micro, tagged with the account's team and owner) and a
VPC flow log demo-flowlog (all traffic, default format) to the bucket guardrail-flowlogs-<account>, where
sandbox.flowtraffic writes its files.

The organisation, in the management account: Root/Workloads/Prod and Root/Workloads/Dev, and every other
portal account a member of it with the portal's own account id, in Dev when its name or team says dev,
sandbox or test, else in Prod, tagged with its team and owner. moto's CreateAccount draws a random id: the
new member is renumbered in moto's own state right after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends
from moto.utilities.utils import get_partition

from sandbox.bootstrap import (
    AccountSpec,
    BootstrapSummary,
    _Clients,
    _ensure_bucket,
    _missing,
)
from sandbox.organization import ensure_access_role

VPC_NAME, VPC_CIDR = "demo-vpc", "10.20.0.0/16"
SUBNET_NAME, SUBNET_CIDR = "demo-subnet", "10.20.1.0/24"
GROUP_NAME = "demo-web"
INGRESS = (("tcp", 443, "0.0.0.0/0"), ("tcp", 22, "10.0.0.0/8"))
INSTANCE_NAMES = ("demo-web-1", "demo-web-2")
INSTANCE_TYPE = "t3.micro"
AMI = "ami-04681a1dbd79675a5"  # Amazon Linux 2, one of the images moto knows in every region
FLOW_LOG_NAME = "demo-flowlog"
WORKLOADS_OU, PROD_OU, DEV_OU = "Workloads", "Prod", "Dev"
DEV_WORDS = frozenset({"dev", "development", "sandbox", "test"})
ACCESS_ROLE_NAME = "OrganizationAccountAccessRole"  # what CreateAccount makes in each new member
_LIVE_STATES = ["pending", "running", "stopping", "stopped"]


def flowlog_bucket(account_id: str) -> str:
    return f"guardrail-flowlogs-{account_id}"


def _tags(resource_type: str, **tags: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items() if v]}]


# --- the network ---

def _ensure_vpc(ec2: Any, summary: BootstrapSummary, where: str) -> str:
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [VPC_NAME]}])["Vpcs"]
    vpc_id = found[0]["VpcId"] if found else ec2.create_vpc(
        CidrBlock=VPC_CIDR, TagSpecifications=_tags("vpc", Name=VPC_NAME))["Vpc"]["VpcId"]
    summary.note(not found, f"{where} VPC {VPC_NAME} {VPC_CIDR} ({vpc_id})")
    return vpc_id


def _ensure_subnet(ec2: Any, vpc_id: str, summary: BootstrapSummary, where: str) -> str:
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                          {"Name": "cidr-block", "Values": [SUBNET_CIDR]}])["Subnets"]
    subnet_id = found[0]["SubnetId"] if found else ec2.create_subnet(
        VpcId=vpc_id, CidrBlock=SUBNET_CIDR, TagSpecifications=_tags("subnet", Name=SUBNET_NAME))["Subnet"]["SubnetId"]
    summary.note(not found, f"{where} subnet {SUBNET_NAME} {SUBNET_CIDR} ({subnet_id})")
    return subnet_id


def _ensure_group(ec2: Any, vpc_id: str, summary: BootstrapSummary, where: str) -> str:
    found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                  {"Name": "group-name", "Values": [GROUP_NAME]}])["SecurityGroups"]
    group_id = found[0]["GroupId"] if found else ec2.create_security_group(
        GroupName=GROUP_NAME, Description="Demo web servers: HTTPS from anywhere, SSH from the corporate network",
        VpcId=vpc_id, TagSpecifications=_tags("security-group", Name=GROUP_NAME))["GroupId"]
    summary.note(not found, f"{where} security group {GROUP_NAME} ({group_id})")
    present = {(p["IpProtocol"], p.get("FromPort"), r["CidrIp"])
               for group in found for p in group["IpPermissions"] for r in p.get("IpRanges", [])}
    missing = [rule for rule in INGRESS if rule not in present]
    if missing:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": protocol, "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}
            for protocol, port, cidr in missing])
    summary.note(bool(missing), f"{where} {GROUP_NAME} ingress: tcp 443 from 0.0.0.0/0, tcp 22 from 10.0.0.0/8")
    return group_id


def _ensure_instances(ec2: Any, subnet_id: str, group_id: str, spec: AccountSpec, summary: BootstrapSummary,
                      where: str) -> None:
    for name in INSTANCE_NAMES:
        found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]},
                                                {"Name": "subnet-id", "Values": [subnet_id]},
                                                {"Name": "instance-state-name", "Values": _LIVE_STATES}])
        instances = [i for reservation in found["Reservations"] for i in reservation["Instances"]]
        if not instances:
            instances = ec2.run_instances(ImageId=AMI, InstanceType=INSTANCE_TYPE, MinCount=1, MaxCount=1,
                                          SubnetId=subnet_id, SecurityGroupIds=[group_id],
                                          TagSpecifications=_tags("instance", Name=name, team=spec.team,
                                                                  owner=spec.owner))["Instances"]
        summary.note(not found["Reservations"], f"{where} instance {name} ({instances[0]['InstanceId']})")


def _ensure_flow_log(ec2: Any, vpc_id: str, bucket: str, summary: BootstrapSummary, where: str) -> None:
    destination = f"arn:aws:s3:::{bucket}"
    found = [fl for fl in ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
             if fl.get("LogDestination") == destination]
    if not found:
        answer = ec2.create_flow_logs(ResourceIds=[vpc_id], ResourceType="VPC", TrafficType="ALL",
                                      LogDestinationType="s3", LogDestination=destination, MaxAggregationInterval=60,
                                      TagSpecifications=_tags("vpc-flow-log", Name=FLOW_LOG_NAME))
        if answer.get("Unsuccessful"):
            raise RuntimeError(f"CreateFlowLogs: {answer['Unsuccessful'][0]['Error']['Message']}")
    summary.note(not found, f"{where} VPC flow log {FLOW_LOG_NAME} on {VPC_NAME} to s3://{bucket}")


def demo_region(spec: AccountSpec) -> str:
    """The default region when the account allows it (or allows any), else its first allowed region."""
    if not spec.regions or settings.AWS_DEFAULT_REGION in spec.regions:
        return settings.AWS_DEFAULT_REGION
    return spec.regions[0]


def ensure_demo_network(spec: AccountSpec, summary: BootstrapSummary, clients: _Clients) -> None:
    """The demo network and its flow log in the account's demo region."""
    acct = spec.account_id
    region = demo_region(spec)
    where = f"{acct} {region}"
    ec2 = clients(acct, "ec2", region)
    vpc_id = _ensure_vpc(ec2, summary, where)
    subnet_id = _ensure_subnet(ec2, vpc_id, summary, where)
    group_id = _ensure_group(ec2, vpc_id, summary, where)
    _ensure_instances(ec2, subnet_id, group_id, spec, summary, where)
    bucket = flowlog_bucket(acct)
    _ensure_bucket(clients(acct, "s3"), bucket, summary, acct)
    _ensure_flow_log(ec2, vpc_id, bucket, summary, where)


# --- the organisation ---

def demo_unit(spec: AccountSpec) -> str:
    """Dev for an account whose name or team says dev, sandbox or test; Prod for the others."""
    words = set(re.split(r"[^a-z0-9]+", f"{spec.name} {spec.team}".lower()))
    return DEV_OU if words & DEV_WORDS else PROD_OU


def _ensure_unit(org: Any, parent_id: str, name: str, summary: BootstrapSummary, label: str) -> str:
    pages = org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent_id)
    found = [unit["Id"] for page in pages for unit in page["OrganizationalUnits"] if unit["Name"] == name]
    unit_id = found[0] if found else org.create_organizational_unit(
        ParentId=parent_id, Name=name)["OrganizationalUnit"]["Id"]
    summary.note(not found, f"{settings.AWS_MANAGEMENT_ACCOUNT_ID} organizational unit {label} ({unit_id})")
    return unit_id


def _moto_account(org: Any, account_id: str) -> Any:
    """The organisation's own record of a member (moto's FakeAccount), in-process."""
    backend = organizations_backends[settings.AWS_MANAGEMENT_ACCOUNT_ID][get_partition(org.meta.region_name)]
    return backend.get_account_by_id(account_id)


def _renumber(org: Any, drawn_id: str, account_id: str) -> None:
    """Give a member moto just created the portal's account id, everywhere moto keeps it."""
    account = _moto_account(org, drawn_id)
    account.id = account_id  # its ARN follows
    organizations_backends.master_accounts[account_id] = organizations_backends.master_accounts.pop(drawn_id)
    # The access role moto made in the drawn account belongs in the real one (an administrator, as AWS's is).
    iam_backends.pop(drawn_id, None)
    ensure_access_role(account_id, settings.AWS_MANAGEMENT_ACCOUNT_ID)


def _ensure_member(org: Any, spec: AccountSpec, listed: dict[str, dict[str, Any]], units: dict[str, str],
                   summary: BootstrapSummary) -> None:
    mgmt, acct, name = settings.AWS_MANAGEMENT_ACCOUNT_ID, spec.account_id, spec.name or spec.account_id
    if acct not in listed:
        drawn = org.create_account(AccountName=name, Email=f"aws+{name}@example.com")["CreateAccountStatus"]
        _renumber(org, drawn["AccountId"], acct)
    summary.note(acct not in listed, f"{mgmt} organization member {acct} {name}")
    unit = demo_unit(spec)
    parent = org.list_parents(ChildId=acct)["Parents"][0]["Id"]
    moved = parent != units[unit]
    if moved:
        org.move_account(AccountId=acct, SourceParentId=parent, DestinationParentId=units[unit])
    summary.note(moved, f"{mgmt} organization member {acct} in {WORKLOADS_OU}/{unit}")


def _ensure_account_tags(org: Any, spec: AccountSpec, summary: BootstrapSummary) -> None:
    wanted = {key: value for key, value in (("team", spec.team), ("owner", spec.owner)) if value}
    current = {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=spec.account_id)["Tags"]}
    missing = {key: value for key, value in wanted.items() if current.get(key) != value}
    if missing:
        org.tag_resource(ResourceId=spec.account_id, Tags=[{"Key": k, "Value": v} for k, v in missing.items()])
    summary.note(bool(missing), f"{settings.AWS_MANAGEMENT_ACCOUNT_ID} organization tags of {spec.account_id}: "
                                + ", ".join(f"{k}={v}" for k, v in wanted.items()))


def ensure_demo_organization(specs: Iterable[AccountSpec], summary: BootstrapSummary, clients: _Clients) -> None:
    """The organisation in the management account, its units, and every portal account in it."""
    mgmt = settings.AWS_MANAGEMENT_ACCOUNT_ID
    org = clients(mgmt, "organizations")
    created = _missing(org.describe_organization, ("AWSOrganizationsNotInUseException",))
    if created:
        org.create_organization(FeatureSet="ALL")
    summary.note(created, f"{mgmt} organization (all features)")
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = _ensure_unit(org, root, WORKLOADS_OU, summary, WORKLOADS_OU)
    units = {name: _ensure_unit(org, workloads, name, summary, f"{WORKLOADS_OU}/{name}") for name in (PROD_OU, DEV_OU)}
    listed = {a["Id"]: a for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]}
    for spec in specs:
        if spec.account_id == mgmt:
            renamed = bool(spec.name) and listed[mgmt]["Name"] != spec.name
            if renamed:  # moto calls the management account "master"; give it the portal's name
                _moto_account(org, mgmt).name = spec.name
            summary.note(renamed, f"{mgmt} organization management account named {spec.name or 'master'}")
        else:
            _ensure_member(org, spec, listed, units, summary)
        _ensure_account_tags(org, spec, summary)


def bootstrap_demo(accounts: Iterable[AccountSpec], summary: BootstrapSummary | None = None) -> BootstrapSummary:
    """The organisation, then each account's demo network; safe to run again."""
    summary = summary or BootstrapSummary(title="Demo world")
    specs = {spec.account_id: spec for spec in accounts}
    clients = _Clients({acct: spec.role_name for acct, spec in specs.items()})
    ensure_demo_organization(specs.values(), summary, clients)
    for spec in specs.values():
        ensure_demo_network(spec, summary, clients)
    return summary
