"""The demo world: each account's network with its flow log, and the organisation with the portal's account ids."""

from django.conf import settings

from portal import aws
from sandbox.bootstrap import AccountSpec, bootstrap_from_portal, portal_accounts
from sandbox.operator import operator_client
from sandbox.demo import (
    AMI,
    FLOW_LOG_NAME,
    INSTANCE_NAMES,
    VPC_NAME,
    bootstrap_demo,
    demo_region,
    flowlog_bucket,
)

MANAGEMENT = settings.AWS_MANAGEMENT_ACCOUNT_ID
PAYMENTS, RESEARCH = "111111111111", "222222222222"


def test_it_builds_each_accounts_network_once(sandbox, people):
    bootstrap_from_portal()  # makes the members, as AWS Organizations would have: the demo only arranges them
    first = bootstrap_demo(portal_accounts())
    assert first.created and first.existing == [
        f"{MANAGEMENT} organization (all features)", f"{MANAGEMENT} organization member {PAYMENTS} payments-prod",
        f"{MANAGEMENT} organization member {RESEARCH} research-dev"]
    second = bootstrap_demo(portal_accounts())
    assert second.created == [] and len(second.existing) == len(first.created) + len(first.existing)

    ec2 = aws.client("ec2", account_id=RESEARCH, region=settings.AWS_DEFAULT_REGION)
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [VPC_NAME]}])["Vpcs"]
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    [subnet] = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                             {"Name": "cidr-block", "Values": ["10.20.1.0/24"]}])["Subnets"]
    [group] = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["demo-web"]}])["SecurityGroups"]
    assert sorted((p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]) == [
        (22, ["10.0.0.0/8"]), (443, ["0.0.0.0/0"])]
    instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    tags = sorted((t["Name"], t["team"]) for t in ({t["Key"]: t["Value"] for t in i["Tags"]} for i in instances))
    assert tags == [(name, "research") for name in INSTANCE_NAMES]
    assert {(i["InstanceType"], i["ImageId"], i["SubnetId"]) for i in instances} == {
        ("t3.micro", AMI, subnet["SubnetId"])}
    assert {g["GroupId"] for i in instances for g in i["SecurityGroups"]} == {group["GroupId"]}
    [flow_log] = ec2.describe_flow_logs()["FlowLogs"]
    assert (flow_log["ResourceId"], flow_log["TrafficType"], flow_log["LogDestinationType"],
            flow_log["LogDestination"]) == (vpc["VpcId"], "ALL", "s3", f"arn:aws:s3:::{flowlog_bucket(RESEARCH)}")
    assert {"Key": "Name", "Value": FLOW_LOG_NAME} in flow_log["Tags"]
    operator_client("s3", RESEARCH).head_bucket(Bucket=flowlog_bucket(RESEARCH))
    assert operator_client("ec2", PAYMENTS).describe_flow_logs()["FlowLogs"]


def test_it_puts_the_portals_accounts_in_the_organisation(sandbox, people):
    bootstrap_demo(portal_accounts())
    org = operator_client("organizations", MANAGEMENT)  # the platform team's administrator looks
    accounts = {a["Id"]: a for a in org.list_accounts()["Accounts"]}
    assert {acct: a["Name"] for acct, a in accounts.items()} == {
        MANAGEMENT: "guardrail-management", PAYMENTS: "payments-prod", RESEARCH: "research-dev"}
    assert accounts[PAYMENTS]["Arn"].endswith(f"/{PAYMENTS}")

    root = org.list_roots()["Roots"][0]["Id"]
    [workloads] = org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    units = {u["Name"]: u["Id"] for u in org.list_organizational_units_for_parent(
        ParentId=workloads["Id"])["OrganizationalUnits"]}
    assert workloads["Name"] == "Workloads" and set(units) == {"Prod", "Dev"}

    def parent(acct):
        return org.list_parents(ChildId=acct)["Parents"][0]["Id"]

    def tags(acct):
        return {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=acct)["Tags"]}

    assert (parent(MANAGEMENT), parent(PAYMENTS), parent(RESEARCH)) == (root, units["Prod"], units["Dev"])
    assert tags(PAYMENTS) == {"team": "payments", "owner": "daisy@example.com"}
    assert tags(RESEARCH) == {"team": "research", "owner": "dan@example.com"}
    assert tags(MANAGEMENT) == {"team": "platform", "owner": "adam@example.com"}
    member = operator_client("organizations", PAYMENTS)
    assert member.describe_organization()["Organization"]["MasterAccountId"] == MANAGEMENT
    assert operator_client("iam", PAYMENTS).get_role(RoleName="OrganizationAccountAccessRole")


def test_it_prefers_the_default_region_when_the_account_allows_it():
    assert demo_region(AccountSpec(PAYMENTS, "GuardrailPortal", ("eu-west-1", "us-east-1"))) == "us-east-1"
    assert demo_region(AccountSpec(PAYMENTS, "GuardrailPortal", ("eu-west-1", "us-west-2"))) == "eu-west-1"
    assert demo_region(AccountSpec(MANAGEMENT, "GuardrailPortal")) == settings.AWS_DEFAULT_REGION
