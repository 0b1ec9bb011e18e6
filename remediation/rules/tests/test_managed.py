"""The managed rules' registry and parameters, and the rules on tags, instances, regions and the Config recorder."""

import ast
from pathlib import Path

import pytest

from audit.config.collectors import configservice
from portal import aws
from sandbox.testing import kit, operator_clients
from remediation.rules import managed
from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    AccountView,
    Evaluation,
    ResourceView,
)
from remediation.rules.managed import RULES, rule_by_name, validate_params

RULES_DIR = Path(managed.__file__).parent

EXPECTED = {
    "restricted-ssh": "INCOMING_SSH_DISABLED",
    "restricted-common-ports": "RESTRICTED_INCOMING_TRAFFIC",
    "vpc-sg-open-only-to-authorized-ports": "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS",
    "required-tags": "REQUIRED_TAGS",
    "desired-instance-type": "DESIRED_INSTANCE_TYPE",
    "approved-amis-by-id": "APPROVED_AMIS_BY_ID",
    "cloudtrail-enabled": "CLOUD_TRAIL_ENABLED",
    "multi-region-cloudtrail-enabled": "MULTI_REGION_CLOUD_TRAIL_ENABLED",
    "mfa-enabled-for-iam-console-access": "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS",
    "root-account-mfa-enabled": "ROOT_ACCOUNT_MFA_ENABLED",
    "vpc-flow-logs-enabled": "VPC_FLOW_LOGS_ENABLED",
    "s3-bucket-public-read-prohibited": "S3_BUCKET_PUBLIC_READ_PROHIBITED",
    "s3-bucket-level-public-access-prohibited": "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "s3-bucket-server-side-encryption-enabled": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "config-recorder-recording": "GUARDRAIL_CONFIG_RECORDER_RECORDING",
    "allowed-regions": "GUARDRAIL_ALLOWED_REGIONS",
}
ACCOUNT_LEVEL = {"cloudtrail-enabled", "multi-region-cloudtrail-enabled", "root-account-mfa-enabled"}


def view(resource_type="AWS::EC2::Instance", resource_id="i-1", region="us-east-1", configuration=None, **more):
    return ResourceView(resource_type, resource_id, "111111111111", region, configuration or {}, **more)


# ------------------------------------------------------------------------------------------- the registry


def test_it_exports_every_rule_once_with_aws_names_and_identifiers():
    assert {rule.name: rule.identifier for rule in RULES} == EXPECTED
    assert len(RULES) == len(EXPECTED)
    for rule in RULES:
        assert rule_by_name(rule.name) is rule and rule_by_name(rule.identifier) is rule
        assert rule.description and isinstance(rule.parameters, tuple)
        assert rule.periodic == (rule.name in ACCOUNT_LEVEL)
        assert (rule.resource_types == ()) == (rule.name in ACCOUNT_LEVEL)
    with pytest.raises(KeyError, match="no-such-rule"):
        rule_by_name("no-such-rule")


def test_the_modules_are_pure_python_and_short():
    for path in RULES_DIR.glob("managed*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & {"django", "boto3", "botocore", "audit", "portal", "sandbox"}, path.name
        assert len(path.read_text().splitlines()) < 500, path.name


def test_rules_answer_not_applicable_for_what_they_do_not_cover():
    bucket = view("AWS::S3::Bucket", "b")
    assert rule_by_name("restricted-ssh").evaluate(bucket, {}).status == NOT_APPLICABLE
    assert rule_by_name("desired-instance-type").evaluate(bucket, {"instanceType": "t3.micro"}).status == NOT_APPLICABLE
    account = AccountView("111111111111", ["us-east-1"], {})
    assert rule_by_name("restricted-ssh").evaluate_account(account, {}).status == NOT_APPLICABLE
    assert rule_by_name("cloudtrail-enabled").evaluate(bucket, {}).status == NOT_APPLICABLE


# ------------------------------------------------------------------------------------------- parameters


def test_defaults_are_filled_and_values_normalised():
    assert validate_params(rule_by_name("restricted-common-ports"), {}) == {
        "blockedPort1": "20", "blockedPort2": "21", "blockedPort3": "3389", "blockedPort4": "3306",
        "blockedPort5": "4333"}
    params = validate_params(rule_by_name("restricted-common-ports"), {"blockedPort1": " 22 ", "blockedPort2": ""})
    assert params["blockedPort1"] == "22" and params["blockedPort2"] == "21"  # blank means the default
    assert validate_params(rule_by_name("desired-instance-type"), {"instanceType": " t3.micro , ,m5.large"}) == {
        "instanceType": "t3.micro,m5.large"}
    assert validate_params(rule_by_name("multi-region-cloudtrail-enabled"), None) == {
        "includeManagementEvents": "true", "readWriteType": "ALL"}
    assert validate_params(rule_by_name("restricted-ssh"), {}) == {}


@pytest.mark.parametrize("name, params, message", [
    ("restricted-ssh", {"port": "22"}, "port: not a parameter of restricted-ssh"),
    ("restricted-common-ports", {"blockedPort1": "ssh"}, "blockedPort1: 'ssh' is not an integer"),
    ("restricted-common-ports", {"blockedPort3": "70000"}, "blockedPort3: port 70000 is outside 0-65535"),
    ("restricted-common-ports", {"blockedPorts": "22,x"}, "blockedPorts: 'x' is not a port number"),
    ("vpc-sg-open-only-to-authorized-ports", {"authorizedTcpPorts": "443,1025-1020"}, "authorizedTcpPorts: range"),
    ("vpc-sg-open-only-to-authorized-ports", {"authorizedUdpPorts": "500-"}, "authorizedUdpPorts: '' is not"),
    ("vpc-sg-open-only-to-authorized-ports", {"authorizedTcpPorts": "443-99999"}, "authorizedTcpPorts: port 99999"),
    ("desired-instance-type", {}, "instanceType: required"),
    ("approved-amis-by-id", {"amiIds": " , "}, "amiIds: required"),
    ("required-tags", {}, "tag1Key: required"),
    ("required-tags", {"tag1Key": "team", "tag2Value": "x"}, "tag2Value: given without tag2Key"),
    ("vpc-flow-logs-enabled", {"trafficType": "SOME"}, "trafficType: 'SOME' is not one of ACCEPT, REJECT, ALL"),
    ("multi-region-cloudtrail-enabled", {"readWriteType": "Both"}, "readWriteType: 'Both' is not one of"),
    ("multi-region-cloudtrail-enabled", {"includeManagementEvents": "maybe"}, "includeManagementEvents: 'maybe'"),
])
def test_malformed_unknown_or_missing_parameters_are_refused(name, params, message):
    with pytest.raises(ValueError) as caught:
        validate_params(rule_by_name(name), params)
    assert str(caught.value).startswith(message)


def test_evaluate_validates_too():
    with pytest.raises(ValueError, match="instanceType: required"):
        rule_by_name("desired-instance-type").evaluate(view(configuration={"instanceType": "t3.micro"}), {})


# ------------------------------------------------------------------------------------------- required-tags


def test_required_tags_checks_keys_and_allowed_values():
    rule = rule_by_name("required-tags")
    params = {"tag1Key": "CostCenter", "tag2Key": "env", "tag2Value": "prod, staging"}
    tagged = view(tags={"CostCenter": "42", "env": "prod"})
    result = rule.evaluate(tagged, params)
    assert result == Evaluation(COMPLIANT, "Has the required tags CostCenter, env")
    missing = rule.evaluate(view(tags={"env": "prod"}), params)
    assert missing.status == NON_COMPLIANT and missing.annotation == "Missing tag CostCenter"
    wrong = rule.evaluate(view(tags={"CostCenter": "42", "env": "dev"}), params)
    assert wrong.status == NON_COMPLIANT and wrong.annotation == "Tag env is 'dev', not one of prod, staging"
    both = rule.evaluate(view(), params)
    assert both.annotation == "Missing tag CostCenter; missing tag env"


def test_required_tags_covers_every_recorded_type_that_carries_tags():
    rule = rule_by_name("required-tags")
    assert {"AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::EC2::VPC", "AWS::S3::Bucket", "AWS::IAM::User",
            "AWS::IAM::Role", "AWS::CloudTrail::Trail", "AWS::RDS::DBInstance"} <= set(rule.resource_types)
    recorder = view("AWS::Config::ConfigurationRecorder", "default", configuration={"recording": True})
    assert rule.evaluate(recorder, {"tag1Key": "team"}).status == NOT_APPLICABLE
    bucket = view("AWS::S3::Bucket", "b", tags={"team": "red"})
    assert rule.evaluate(bucket, {"tag1Key": "team", "tag1Value": "red,blue"}).status == COMPLIANT


# ------------------------------------------------------------------------------------------- instances


def test_desired_instance_type():
    rule = rule_by_name("desired-instance-type")
    params = {"instanceType": "t3.micro,t3.small"}
    assert rule.evaluate(view(configuration={"instanceType": "t3.small"}), params).status == COMPLIANT
    big = rule.evaluate(view(configuration={"instanceType": "p4d.24xlarge"}), params)
    assert big.status == NON_COMPLIANT
    assert big.annotation == "Instance type p4d.24xlarge is not one of t3.micro, t3.small"
    assert rule.evaluate(view(configuration={}), params).status == INSUFFICIENT_DATA


def test_approved_amis_by_id():
    rule = rule_by_name("approved-amis-by-id")
    params = {"amiIds": "ami-03cf127a,ami-12345678"}
    assert rule.evaluate(view(configuration={"imageId": "ami-03cf127a"}), params).status == COMPLIANT
    rogue = rule.evaluate(view(configuration={"imageId": "ami-deadbeef"}), params)
    assert rogue.status == NON_COMPLIANT and "ami-deadbeef" in rogue.annotation
    assert rule.evaluate(view(configuration={"instanceType": "t3.micro"}), params).status == INSUFFICIENT_DATA


# ------------------------------------------------------------------------------------------- allowed-regions


def test_allowed_regions():
    rule = rule_by_name("allowed-regions")
    context = {"allowed_regions": ["eu-west-1", "eu-central-1"]}
    at_home = view("AWS::EC2::SecurityGroup", "sg-1", "eu-west-1", context=context)
    assert rule.evaluate(at_home, {}).status == COMPLIANT
    away = rule.evaluate(view("AWS::S3::Bucket", "b", "us-east-1", context=context), {})
    assert away.status == NON_COMPLIANT
    assert away.annotation == "Region us-east-1 is not one of the allowed regions eu-west-1, eu-central-1"
    iam_user = view("AWS::IAM::User", "alice", "global", context=context)
    assert rule.evaluate(iam_user, {}).status == NOT_APPLICABLE
    assert rule.evaluate(view("AWS::EC2::VPC", "vpc-1", "us-east-1"), {}).status == INSUFFICIENT_DATA
    # any type, even one the recorder learns later
    assert rule.evaluate(view("AWS::Lambda::Function", "f", "ap-south-1", context=context), {}).status == NON_COMPLIANT


# ------------------------------------------------------------------------------------------- config recorder


def test_config_recorder_recording():
    rule = rule_by_name("config-recorder-recording")
    kind = "AWS::Config::ConfigurationRecorder"
    on = rule.evaluate(view(kind, "default", configuration={"name": "default", "recording": True}), {})
    assert (on.status, on.annotation) == (COMPLIANT, "Recorder default is recording")
    off = rule.evaluate(view(kind, "default", configuration={"recording": False,
                                                             "lastStopTime": "2024-08-01T12:00:00Z"}), {})
    assert off.status == NON_COMPLIANT and off.annotation == "Recorder default is not recording (stopped 2024-08-01T12:00:00Z)"
    assert rule.evaluate(view(kind, "default", configuration={"name": "default"}), {}).status == INSUFFICIENT_DATA


def test_a_recorder_made_in_the_sandbox(sandbox):
    def clients(service, region):
        return aws.client(service, account_id="111111111111", region=region)

    kit("111111111111")
    admin = operator_clients("111111111111")  # the recorder the account's administrator sets up
    config = admin("config", "us-east-1")
    admin("s3", "us-east-1").create_bucket(Bucket="rules-config-bucket")
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": "arn:aws:iam::111111111111:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "rules-config-bucket"})
    rule = rule_by_name("config-recorder-recording")

    def recorded():
        snapshot = configservice.ConfigurationRecorderCollector().get(clients, "us-east-1", "default")
        return view(snapshot.resource_type, snapshot.resource_id, snapshot.region, snapshot.configuration)

    assert rule.evaluate(recorded(), {}).status == NON_COMPLIANT
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    assert rule.evaluate(recorded(), {}) == Evaluation(COMPLIANT, "Recorder default is recording")
    config.stop_configuration_recorder(ConfigurationRecorderName="default")
    stopped = rule.evaluate(recorded(), {})
    assert stopped.status == NON_COMPLIANT and stopped.annotation.startswith("Recorder default is not recording")
