"""Guardrails at creation: planned resources from real templates, in the recorder's shapes, and secure defaults."""

import copy
import json
from pathlib import Path

import pytest

from audit.config.collectors import ec2 as ec2_collectors
from audit.config.collectors import s3 as s3_collectors
from catalog.cfn.loader import load_template
from portal import aws
from remediation.rules.base import COMPLIANT, INSUFFICIENT_DATA, NON_COMPLIANT, ResourceView
from remediation.rules.declarative import compile_rule
from remediation.rules.template_resources import resources_from_template, secure_defaults
from sandbox.testing import kit, operator_clients, samples_path

ACCOUNT = "111111111111"
REGION = "eu-west-1"
LAMP = Path(__file__).resolve().parents[3] / "catalog" / "demo" / "lamp-v1.yaml"
ENCRYPTED = {"rules": [{"applyServerSideEncryptionByDefault": {"sSEAlgorithm": "AES256"}, "bucketKeyEnabled": False}]}
SSH_WORLD = compile_rule({
    "resource_types": ["AWS::EC2::SecurityGroup"],
    "match": {"any": [{"all": [{"path": f"configuration.ipPermissions[{i}].fromPort", "op": "le", "value": 22},
                               {"path": f"configuration.ipPermissions[{i}].toPort", "op": "ge", "value": 22},
                               {"path": f"configuration.ipPermissions[{i}].ipRanges[*].cidrIp", "op": "cidr_world"}]}
                      for i in range(4)]},
    "annotation": "SSH open to the world"})


def _load(path) -> dict:
    return load_template(Path(path).read_text()).template


def _sample(*parts) -> dict:
    return _load(samples_path("templates", *parts))


def _views(template, parameters=None, tags=None, **kwargs):
    views = resources_from_template(template, parameters or {}, account_id=ACCOUNT, region=REGION,
                                    tags={"owner": "team-a"} if tags is None else tags, **kwargs)
    return {view.resource_id: view for view in views}


# ------------------------------------------------------------------------------------------------ the demo


def test_lamp_ssh_from_anywhere_is_a_world_open_port_22():
    views = _views(_load(LAMP), {"SSHLocation": "0.0.0.0/0", "DBPassword": "secret123"}, stack_name="shop")
    assert set(views) == {"WebServerSecurityGroup", "WebServer"}
    group = views["WebServerSecurityGroup"]
    assert (group.resource_type, group.account_id, group.region) == ("AWS::EC2::SecurityGroup", ACCOUNT, REGION)
    assert group.context == {"planned": True, "logical_id": "WebServerSecurityGroup", "unresolved": []}
    ssh = [p for p in group.configuration["ipPermissions"] if p.get("fromPort") == 22]
    assert ssh == [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "userIdGroupPairs": [],
                    "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [], "prefixListIds": []}]
    assert group.configuration["ipPermissionsEgress"] == [{"ipProtocol": "-1", "userIdGroupPairs": [],
                                                           "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [],
                                                           "prefixListIds": []}]
    evaluation = SSH_WORLD.evaluate(group, {})
    assert evaluation.status == NON_COMPLIANT
    assert evaluation.annotation.endswith("configuration.ipPermissions[1].ipRanges[0].cidrIp is 0.0.0.0/0 "
                                          "(open to the world)")
    # the default SSHLocation (10.0.0.0/16) is not
    assert SSH_WORLD.evaluate(_views(_load(LAMP))["WebServerSecurityGroup"], {}).status == COMPLIANT


def test_lamp_instance_resolves_the_region_map_parameters_sub_and_tags():
    views = _views(_load(LAMP), {"InstanceType": "m5.4xlarge"}, tags={"owner": "team-a", "environment": "forced"},
                   stack_name="shop")
    server = views["WebServer"]
    assert server.configuration["imageId"] == "ami-0d71ea30463e0ff8d"  # RegionAMI[eu-west-1]
    assert server.configuration["instanceType"] == "m5.4xlarge"
    # the resource's own tags win over the launch's for the same key
    assert server.tags == {"owner": "team-a", "environment": "development", "Name": "shop-web"}
    assert server.configuration["securityGroups"] == [{"groupId": "WebServerSecurityGroup",
                                                       "groupName": "WebServerSecurityGroup"}]
    assert server.relationships == [{"relationshipName": "Is associated with SecurityGroup",
                                     "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "WebServerSecurityGroup"}]
    group = views["WebServerSecurityGroup"]
    assert {"relationshipName": "Is associated with Instance", "resourceType": "AWS::EC2::Instance",
            "resourceId": "WebServer"} in group.relationships
    assert [r["resource_id"] for r in group.related] == ["WebServer"]
    assert group.related[0]["configuration"] is server.configuration
    # without a stack name, the Name tag is not known before launch
    unnamed = _views(_load(LAMP))["WebServer"]
    assert unnamed.tags["Name"] is None and "tags.Name" in unnamed.context["unresolved"]
    assert "configuration.placement.availabilityZone" in unnamed.context["unresolved"]


def test_the_same_rule_answers_alike_for_the_planned_and_the_recorded_group(sandbox):
    """Creates the demo's group for real in the sandbox: the recorder's snapshot and the plan have one shape."""
    planned = _views(_load(LAMP), {"SSHLocation": "0.0.0.0/0"})["WebServerSecurityGroup"]
    kit(ACCOUNT)
    ec2 = operator_clients(ACCOUNT, REGION)("ec2", REGION)  # made by the account's administrator
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(GroupName="lamp", Description="lamp", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    clients = lambda service, region: aws.client(service, account_id=ACCOUNT, region=region)  # noqa: E731
    recorded = ec2_collectors.SecurityGroupCollector().get(clients, REGION, group_id)

    def rules(configuration, key):
        return sorted(json.dumps(p, sort_keys=True) for p in configuration[key])

    assert rules(planned.configuration, "ipPermissions") == rules(recorded.configuration, "ipPermissions")
    assert rules(planned.configuration, "ipPermissionsEgress") == rules(recorded.configuration, "ipPermissionsEgress")
    assert set(planned.configuration) <= set(recorded.configuration)
    view = ResourceView(resource_type=recorded.resource_type, resource_id=recorded.resource_id, account_id=ACCOUNT,
                        region=REGION, configuration=recorded.configuration)
    assert SSH_WORLD.evaluate(view, {}).annotation == SSH_WORLD.evaluate(planned, {}).annotation


def test_the_planned_bucket_has_the_recorders_supplementary_shape(sandbox):
    template = secure_defaults(_sample("service-catalog-reference-architectures", "s3", "sc-s3-public-ra.json"),
                               {"encryption"}, tags={})[0]
    planned = _views(template)["S3Bucket"]
    kit(ACCOUNT)
    s3 = operator_clients(ACCOUNT)("s3", "us-east-1")  # made by the account's administrator
    s3.create_bucket(Bucket="planned-shape", ACL="public-read")
    s3.put_bucket_encryption(Bucket="planned-shape", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    clients = lambda service, region: aws.client(service, account_id=ACCOUNT, region="us-east-1")  # noqa: E731
    recorded = s3_collectors.BucketCollector().get(clients, "us-east-1", "planned-shape")
    assert set(planned.supplementary) == set(recorded.supplementary)
    for key in ("ServerSideEncryptionConfiguration", "PublicAccessBlockConfiguration", "BucketPolicy",
                "BucketVersioningConfiguration", "BucketLoggingConfiguration"):
        assert planned.supplementary[key] == recorded.supplementary[key], key

    def grants(supplementary):  # the owner's canonical id is known only once the bucket exists
        return [{**g, "grantee": {k: v for k, v in g["grantee"].items() if k != "iD"}}
                for g in supplementary["AccessControlList"]["grants"]]

    assert grants(planned.supplementary) == grants(recorded.supplementary)
    assert set(planned.configuration) == set(recorded.configuration)


# ------------------------------------------------------------------------------------------------ samples


def test_a_public_read_bucket_gets_an_all_users_grant_and_secure_defaults_fix_it():
    template = _sample("service-catalog-reference-architectures", "s3", "sc-s3-public-ra.json")
    bucket = _views(template)["S3Bucket"]
    assert bucket.tags == {"owner": "team-a", "Name": "SC-S3-RA-S3-Bucket"}
    assert {"grantee": {"type": "Group", "uRI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "permission": "READ"} in bucket.supplementary["AccessControlList"]["grants"]
    assert bucket.supplementary["ServerSideEncryptionConfiguration"] is None
    assert bucket.supplementary["PublicAccessBlockConfiguration"] is None
    assert bucket.configuration["name"] == "S3Bucket"  # CloudFormation names it; the logical id stands in
    before = copy.deepcopy(template)

    fixed, lines = secure_defaults(template, {"encryption", "public_access_block", "tags"},
                                   tags={"owner": "team-a", "cost-center": "42"})
    assert template == before  # a copy was changed
    assert lines == [
        "S3 bucket S3Bucket: turned on default encryption (SSE-S3, AES-256).",
        "S3 bucket S3Bucket: blocked all public access (all four public access block settings).",
        "S3 bucket S3Bucket: removed AccessControl PublicRead, which let anyone read it.",
        "AWS::S3::Bucket S3Bucket: added the tags owner, cost-center."]
    bucket = _views(fixed, tags={})["S3Bucket"]
    assert bucket.supplementary["ServerSideEncryptionConfiguration"] == ENCRYPTED
    assert bucket.supplementary["PublicAccessBlockConfiguration"] == {
        "blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True, "restrictPublicBuckets": True}
    assert [g["permission"] for g in bucket.supplementary["AccessControlList"]["grants"]] == ["FULL_CONTROL"]
    assert bucket.tags == {"Name": "SC-S3-RA-S3-Bucket", "owner": "team-a", "cost-center": "42"}
    # a second pass has nothing left to do
    assert secure_defaults(fixed, {"encryption", "public_access_block", "tags"},
                           tags={"owner": "team-a", "cost-center": "42"})[1] == []


def test_the_compliant_bucket_sample_with_its_policy_logging_and_versioning():
    template = _sample("aws-cloudformation-templates", "S3", "compliant-bucket.yaml")
    views = _views(template, {"AppName": "shop"})
    assert set(views) == {"ObjectStorageBucket", "ObjectStorageLogBucket", "ObjectStorageReplicaBucket"}
    bucket = views["ObjectStorageBucket"]
    assert bucket.configuration["name"] == f"shop-{REGION}-{ACCOUNT}"
    assert bucket.supplementary["ServerSideEncryptionConfiguration"] == ENCRYPTED
    assert bucket.supplementary["PublicAccessBlockConfiguration"]["restrictPublicBuckets"] is True
    assert bucket.supplementary["BucketVersioningConfiguration"] == {"status": "Enabled", "isMfaDeleteEnabled": None}
    assert bucket.supplementary["BucketLoggingConfiguration"] == {
        "destinationBucketName": f"shop-logs-{REGION}-{ACCOUNT}", "logFilePrefix": ""}
    policy = json.loads(bucket.supplementary["BucketPolicy"]["policyText"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": False}}
    assert policy["Statement"][0]["Resource"][0] == f"arn:aws:s3:::shop-{REGION}-{ACCOUNT}"
    # AppName has no Default: without a value the names are not known before launch
    unnamed = _views(template)["ObjectStorageBucket"]
    assert unnamed.configuration["name"] is None and "configuration.name" in unnamed.context["unresolved"]
    assert unnamed.supplementary["BucketPolicy"] == {"policyText": None}  # no policy can be matched to it
    assert secure_defaults(template, {"encryption", "public_access_block"}, tags={})[1] == []


def test_the_ec2_sample_default_cidr_has_prefix_zero_and_ssm_images_are_unknown():
    template = _sample("aws-cloudformation-templates", "EC2", "EC2InstanceWithSecurityGroupSample.yaml")
    views = _views(template, {"KeyName": "mine"})
    group, instance = views["InstanceSecurityGroup"], views["EC2Instance"]
    assert group.configuration["ipPermissions"][0]["ipRanges"] == [{"cidrIp": "192.168.1.0/0"}]
    assert SSH_WORLD.evaluate(group, {}).status == NON_COMPLIANT  # 192.168.1.0/0 is the whole internet
    assert instance.configuration["instanceType"] == "t3.small" and instance.configuration["keyName"] == "mine"
    assert instance.configuration["imageId"] is None  # an SSM parameter, read at launch
    assert {"configuration.imageId", "configuration.subnetId"} <= set(instance.context["unresolved"])
    assert instance.configuration["securityGroups"] == [{"groupId": "InstanceSecurityGroup",
                                                         "groupName": "InstanceSecurityGroup"}]
    rule = compile_rule({"resource_types": ["AWS::EC2::Instance"], "annotation": "Not an approved image",
                         "match": {"not": {"path": "configuration.imageId", "op": "in", "value": ["ami-1"]}}})
    assert rule.evaluate(instance, {}).status == INSUFFICIENT_DATA


def test_the_rds_samples_encryption_and_public_access():
    template = _sample("service-catalog-reference-architectures", "rds", "sc-rds-mysql-ra.json")
    views = _views(template, {"DBInputCIDR": "10.0.0.0/8", "DBSecurityGroupName": "db"})
    db = views["MasterDB"]
    assert db.configuration["storageEncrypted"] is True
    assert db.configuration["dBInstanceClass"] == "db.t2.small"
    assert db.configuration["allocatedStorage"] == 20 and db.configuration["multiAZ"] is False
    assert db.configuration["publiclyAccessible"] is None
    assert "configuration.publiclyAccessible" in db.context["unresolved"]
    assert db.configuration["vpcSecurityGroups"] == [{"vpcSecurityGroupId": "DBEC2SecurityGroup", "status": "active"}]
    group = views["DBEC2SecurityGroup"]
    assert group.configuration["groupName"] == "db"
    assert group.configuration["ipPermissions"][0]["fromPort"] == 3306  # a Number parameter, as an int
    assert [r["resource_id"] for r in group.related] == ["MasterDB"]

    other = _sample("aws-cloudformation-templates", "RDS", "RDS_with_DBParameterGroup.yaml")
    del other["Resources"]["MyDB"]["Properties"]["StorageEncrypted"]
    db = _views(other, {"DBUser": "admin"})["MyDB"]
    assert db.configuration["storageEncrypted"] is False and db.configuration["publiclyAccessible"] is False
    assert db.configuration["engineVersion"] == "8.0.36" and db.configuration["backupRetentionPeriod"] == 7
    fixed, lines = secure_defaults(other, {"encryption"}, tags={})
    assert lines == ["RDS database MyDB: turned on storage encryption."]
    assert _views(fixed, {"DBUser": "admin"})["MyDB"].configuration["storageEncrypted"] is True


def test_conditions_decide_which_resources_are_planned():
    template = _sample("service-catalog-reference-architectures", "vpc", "sc-vpc-ra.json")
    views = _views(template)
    assert set(views) == {"VPC"}  # CreateBastionInstance defaults to false
    vpc = views["VPC"]
    assert vpc.configuration["cidrBlock"] == "10.229.0.0/16"
    assert vpc.configuration["cidrBlockAssociationSet"][0]["cidrBlock"] == "10.229.0.0/16"
    assert vpc.tags["Name"] == "SC-VPC-RA-10.229.0.0/16"
    views = _views(template, {"CreateBastionInstance": "true", "BastionSSHCIDR": "0.0.0.0/0"})
    assert set(views) == {"VPC", "BastionSecurityGroup", "BastionInstance"}
    group = views["BastionSecurityGroup"]
    assert group.configuration["vpcId"] == "VPC"
    assert {r["resource_id"] for r in views["VPC"].related} == {"BastionSecurityGroup"}
    icmp = [p for p in group.configuration["ipPermissions"] if p["ipProtocol"] == "icmp"]
    assert (icmp[0]["fromPort"], icmp[0]["toPort"]) == (-1, -1)
    assert group.configuration["ipPermissionsEgress"][0]["ipProtocol"] == "-1"
    assert "fromPort" not in group.configuration["ipPermissionsEgress"][0]


# ------------------------------------------------------------------------------------------------ inline templates


IPV6 = {
    "Parameters": {"Open": {"Type": "String", "AllowedValues": ["yes", "no"], "Default": "no"},
                   "Ports": {"Type": "CommaDelimitedList", "Default": "8080,8443"}},
    "Conditions": {"IsOpen": {"Fn::Equals": [{"Ref": "Open"}, "yes"]},
                   "IsClosed": {"Fn::Not": [{"Condition": "IsOpen"}]}},
    "Resources": {
        "Web": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "dual stack", "VpcId": "vpc-123",
            "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv6": "::/0"},
                {"IpProtocol": "6", "FromPort": "443", "ToPort": "443", "CidrIp": "10.0.0.0/8", "Description": "vpn"},
                {"IpProtocol": -1, "FromPort": 0, "ToPort": 0,
                 "CidrIpv6": {"Fn::If": ["IsOpen", "::/0", "fd00::/8"]}}],
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}],
            "Tags": [{"Key": "tier", "Value": {"Fn::Join": ["-", ["web", {"Ref": "AWS::Region"}]]}},
                     {"Fn::If": ["IsOpen", {"Key": "extra", "Value": "x"}, {"Ref": "AWS::NoValue"}]}]}},
        "AppPort": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Fn::GetAtt": ["Web", "GroupId"]}, "IpProtocol": "tcp", "CidrIpv6": "2001:db8::/32",
            "FromPort": {"Fn::Select": [0, {"Ref": "Ports"}]}, "ToPort": {"Fn::Select": ["0", {"Ref": "Ports"}]}}},
        "FromLb": {"Type": "AWS::EC2::SecurityGroupIngress", "Condition": "IsClosed", "Properties": {
            "GroupId": {"Ref": "Web"}, "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
            "SourceSecurityGroupId": "sg-lb"}},
        "Unknowable": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Ref": "Web"}, "IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
            "CidrIp": {"Fn::ImportValue": "shared-cidr"}}},
        "Queue": {"Type": "AWS::SQS::Queue"},
    },
}


def test_ipv6_separate_ingress_resources_protocols_and_conditions():
    group = _views(IPV6, tags={})["Web"]
    permissions = group.configuration["ipPermissions"]
    https = [p for p in permissions if p["ipProtocol"] == "tcp" and p["fromPort"] == 443]
    assert len(https) == 1  # protocol "6" is tcp: one permission per (protocol, ports), as EC2 merges them
    assert https[0]["ipv6Ranges"] == [{"cidrIpv6": "::/0"}]
    assert https[0]["ipRanges"] == [{"cidrIp": "10.0.0.0/8", "description": "vpn"}]
    everything = [p for p in permissions if p["ipProtocol"] == "-1"]
    assert everything == [{"ipProtocol": "-1", "userIdGroupPairs": [], "ipRanges": [],
                           "ipv6Ranges": [{"cidrIpv6": "fd00::/8"}], "prefixListIds": []}]  # no ports for -1
    app = [p for p in permissions if p.get("fromPort") == 8080]
    assert app[0]["toPort"] == 8080 and app[0]["ipv6Ranges"] == [{"cidrIpv6": "2001:db8::/32"}]
    lb = [p for p in permissions if p.get("fromPort") == 80]
    assert lb[0]["userIdGroupPairs"] == [{"groupId": "sg-lb", "userId": ACCOUNT}]
    dns = [p for p in permissions if p["ipProtocol"] == "udp"]
    assert dns[0]["ipRanges"] == [{"cidrIp": None}]
    assert group.context["unresolved"] == [f"configuration.ipPermissions[{permissions.index(dns[0])}].ipRanges[0]"
                                           ".cidrIp"]
    assert group.configuration["ipPermissionsEgress"] == [{
        "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "userIdGroupPairs": [],
        "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [], "prefixListIds": []}]
    assert group.tags == {"tier": f"web-{REGION}"}
    world = compile_rule({"resource_types": ["AWS::EC2::SecurityGroup"], "annotation": "World",
                          "match": {"path": "configuration.ipPermissions[*].ipv6Ranges[*].cidrIpv6",
                                    "op": "cidr_world"}})
    assert world.evaluate(group, {}).annotation == (
        "World: configuration.ipPermissions[0].ipv6Ranges[0].cidrIpv6 is ::/0 (open to the world)")

    opened = _views(IPV6, {"Open": "yes"}, tags={})["Web"]
    assert not [p for p in opened.configuration["ipPermissions"] if p.get("fromPort") == 80]  # IsClosed is false
    assert [p for p in opened.configuration["ipPermissions"] if p["ipProtocol"] == "-1"][0]["ipv6Ranges"] == [
        {"cidrIpv6": "::/0"}]


def test_unknown_parameters_and_undecidable_conditions():
    template = copy.deepcopy(IPV6)
    del template["Parameters"]["Open"]["Default"]
    group = _views(template, tags={})["Web"]
    # IsOpen hangs on Open, which has no value: the If is unknown, and FromLb (IsClosed) is planned anyway
    assert [p for p in group.configuration["ipPermissions"] if p["ipProtocol"] == "-1"][0]["ipv6Ranges"] == [
        {"cidrIpv6": None}]
    assert [p for p in group.configuration["ipPermissions"] if p.get("fromPort") == 80]


def test_intrinsics():
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}, "Size": {"Type": "Number", "Default": 50},
                       "Secret": {"Type": "String", "NoEcho": True}},
        "Mappings": {"Sizes": {"dev": {"Class": "db.t3.micro"}}},
        "Conditions": {"Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                       "Either": {"Fn::Or": [{"Condition": "Prod"}, {"Fn::Equals": ["a", "a"]}]},
                       "Both": {"Fn::And": [{"Condition": "Prod"}, {"Fn::Equals": [{"Ref": "Secret"}, "x"]}]}},
        "Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "DBInstanceIdentifier": {"Fn::Sub": ["${AWS::StackName}-${Env}-${Suffix}", {"Suffix": "Main"}]},
            "DBInstanceClass": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Class"]},
            "Engine": {"Fn::Select": [1, {"Fn::Split": [",", "postgres,mysql"]}]},
            "AllocatedStorage": {"Ref": "Size"},
            "MultiAZ": {"Fn::If": ["Either", True, False]},
            "PubliclyAccessible": {"Fn::If": ["Both", True, {"Ref": "AWS::NoValue"}]},
            "EngineVersion": {"Fn::FindInMap": ["Sizes", "prod", "Version", {"DefaultValue": "8.0"}]},
            "MasterUsername": {"Fn::Sub": "${!Literal}-${Secret}"},
            "Tags": [{"Key": "url", "Value": {"Fn::Sub": "https://${AWS::URLSuffix}/${AWS::Partition}"}}]}}},
    }
    db = _views(template, tags={}, stack_name="Shop")["Db"]
    config = db.configuration
    assert config["dBInstanceIdentifier"] == "shop-dev-main"  # RDS keeps identifiers in lower case
    assert (config["dBInstanceClass"], config["engine"], config["allocatedStorage"]) == ("db.t3.micro", "mysql", 50)
    assert config["multiAZ"] is True and config["engineVersion"] == "8.0"
    assert config["publiclyAccessible"] is None  # And(false, unknown) is false: NoValue, AWS decides
    assert config["masterUsername"] is None  # no value and no Default
    assert db.tags == {"url": "https://amazonaws.com/aws"}
    cn = resources_from_template(template, {"Secret": "s"}, account_id=ACCOUNT, region="cn-north-1", tags={})[0]
    assert cn.tags == {"url": "https://amazonaws.com.cn/aws-cn"}
    assert cn.configuration["masterUsername"] == "${Literal}-s"
    assert cn.configuration["dBInstanceIdentifier"] is None  # no stack name: the identifier is not known
    assert "configuration.dBInstanceIdentifier" in cn.context["unresolved"] and cn.resource_id == "Db"


def test_iam_users_with_policies_keys_and_a_login_profile():
    template = {"Resources": {
        "Dev": {"Type": "AWS::IAM::User", "Properties": {
            "UserName": "dev", "Path": "/people/", "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "LoginProfile": {"Password": "x", "PasswordResetRequired": True}, "Groups": ["devs"],
            "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Statement": []}}]}},
        "Extra": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "extra", "PolicyDocument": {"Statement": [{"Effect": "Allow"}]}, "Users": [{"Ref": "Dev"}]}},
        "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "Dev"}}},
        "Bot": {"Type": "AWS::IAM::User"}}}
    views = _views(template, tags={"owner": "team-a"})
    dev, bot = views["Dev"], views["Bot"]
    assert dev.region == "global" and dev.tags == {"owner": "team-a"}
    config = dev.configuration
    assert (config["userName"], config["arn"]) == ("dev", f"arn:aws:iam::{ACCOUNT}:user/people/dev")
    assert config["attachedManagedPolicies"] == [{"policyName": "ReadOnlyAccess",
                                                  "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    assert sorted(p["policyName"] for p in config["userPolicyList"]) == ["extra", "inline"]
    assert config["loginProfile"] == {"createDate": None, "passwordResetRequired": True}
    assert config["accessKeys"] == [{"accessKeyId": None, "status": "Active", "createDate": None}]
    assert config["groupList"] == ["devs"] and config["mfaDevices"] == []
    assert bot.configuration["loginProfile"] is None and bot.configuration["accessKeys"] == []
    assert bot.configuration["userName"] == "Bot"


def test_secure_defaults_tags_every_taggable_resource_and_refuses_unknown_fixes():
    template = copy.deepcopy(IPV6)
    template["Resources"]["Wait"] = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    fixed, lines = secure_defaults(template, {"tags"}, tags={"owner": "team-a", "tier": "ignored"})
    assert lines == ["AWS::EC2::SecurityGroup Web: added the tag owner.", "AWS::SQS::Queue Queue: added the tags "
                     "owner, tier."]
    assert fixed["Resources"]["Queue"]["Properties"]["Tags"] == [{"Key": "owner", "Value": "team-a"},
                                                                 {"Key": "tier", "Value": "ignored"}]
    assert fixed["Resources"]["Wait"] == {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    assert "Tags" not in fixed["Resources"]["AppPort"]["Properties"]
    assert secure_defaults(template, set(), tags={"owner": "x"}) == (template, [])
    with pytest.raises(ValueError, match="unknown fix encrypt"):
        secure_defaults(template, {"encrypt"}, tags={})


def test_managed_rules_evaluate_planned_resources():
    from remediation.rules.managed import rule_by_name

    ssh, encrypted = rule_by_name("restricted-ssh"), rule_by_name("s3-bucket-server-side-encryption-enabled")
    group = _views(_load(LAMP), {"SSHLocation": "0.0.0.0/0"})["WebServerSecurityGroup"]
    assert ssh.evaluate(group, {}).status == NON_COMPLIANT
    assert ssh.evaluate(_views(_load(LAMP))["WebServerSecurityGroup"], {}).status == COMPLIANT
    template = _sample("service-catalog-reference-architectures", "s3", "sc-s3-public-ra.json")
    assert encrypted.evaluate(_views(template)["S3Bucket"], {}).status == NON_COMPLIANT
    fixed = secure_defaults(template, {"encryption"}, tags={})[0]
    assert encrypted.evaluate(_views(fixed)["S3Bucket"], {}).status == COMPLIANT
