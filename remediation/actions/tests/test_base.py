"""The action protocol without AWS: the registry, plans as data, notify, and how errors become outcomes."""

import ast
import json
from pathlib import Path

import pytest

import remediation.actions as package
from remediation.actions import (
    ACTIONS,
    FAILED,
    SUCCEEDED,
    Outcome,
    Plan,
    Target,
    action_by_name,
    actions_for,
)
from remediation.actions.base import Action, ActionError, aws_error, method_name
from remediation.actions.tests.helpers import ACCOUNT, REGION

NAMES = ["revoke_world_ingress", "start_config_recorder", "start_cloudtrail_logging", "enable_vpc_flow_logs",
         "add_required_tags", "block_s3_public_access", "enable_bucket_encryption", "stop_instance", "notify"]
MODULES = sorted(Path(package.__file__).parent.glob("*.py"))


def _no_clients(service, region):
    raise AssertionError(f"no AWS call expected ({service} in {region})")


class FakeClientError(Exception):
    """What botocore's ClientError looks like to the actions (they import no botocore)."""

    def __init__(self, code, message):
        super().__init__(f"An error occurred ({code}): {message}")
        self.response = {"Error": {"Code": code, "Message": message}}


class Fake(Action):
    name, title, api_call, resource_types = "fake", "Fake", "ec2:DoSomething", ("AWS::EC2::VPC",)

    def __init__(self, read=None, write=None):
        self.read, self.write = read, write

    def plan(self, clients, target):
        if self.read:
            raise self.read
        return self.make_plan(target, [self.call(self.api_call, VpcId=target.resource_id)], "Does   something\n")

    def document(self, clients, target):
        return {"configuration": {"vpcId": target.resource_id}}

    def execute(self, clients, target, call):
        if self.write:
            raise self.write

    def verify(self, clients, target):
        return True


VPC = Target("AWS::EC2::VPC", "vpc-1", ACCOUNT, REGION)


def test_the_registry_holds_every_action_by_name():
    assert list(ACTIONS) == NAMES
    assert all(action_by_name(name).name == name for name in NAMES)
    assert all(action.title and action.name == action.name.lower() for action in ACTIONS.values())
    with pytest.raises(KeyError, match="No remediation action named 'reboot'"):
        action_by_name("reboot")
    assert [a.name for a in actions_for("AWS::S3::Bucket")] == [
        "add_required_tags", "block_s3_public_access", "enable_bucket_encryption", "notify"]
    assert [a.name for a in actions_for("AWS::EC2::SecurityGroup")] == [
        "add_required_tags", "revoke_world_ingress", "notify"]


def test_the_modules_stay_pure_and_short():
    for path in MODULES:
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {n for n in imported if n.split(".")[0] in {"django", "boto3", "botocore", "portal"}}, path
        assert len(path.read_text().splitlines()) < 500, path


def test_method_names():
    assert method_name("ec2:RevokeSecurityGroupIngress") == "revoke_security_group_ingress"
    assert method_name("rds:AddTagsToResource") == "add_tags_to_resource"
    assert method_name("config:StartConfigurationRecorder") == "start_configuration_recorder"
    assert method_name("s3:PutBucketTagging") == "put_bucket_tagging"


def test_a_plan_is_data_and_comes_back_from_it():
    plan = Fake().preview(_no_clients, VPC)
    assert plan.expected_change == "Does something"
    data = json.loads(json.dumps(plan.as_dict()))
    assert Plan.from_dict(data) == plan
    assert data["target"] == {"resource_type": "AWS::EC2::VPC", "resource_id": "vpc-1", "account_id": ACCOUNT,
                              "region": REGION, "details": {}}
    assert json.loads(json.dumps(Outcome(SUCCEEDED, "done").as_dict()))["status"] == SUCCEEDED


def test_an_aws_error_while_reading_blocks_the_plan_and_fails_the_apply():
    action = Fake(read=FakeClientError("AccessDenied", "not allowed"))
    plan = action.preview(_no_clients, VPC)
    assert (plan.blocked, plan.error_code, plan.calls) == ("AccessDenied: not allowed", "AccessDenied", [])
    outcome = action.apply(_no_clients, plan)
    assert (outcome.status, outcome.error_code) == (FAILED, "AccessDenied")


def test_an_aws_error_while_writing_is_a_failure_not_an_exception():
    plan = Fake().preview(_no_clients, VPC)
    outcome = Fake(write=FakeClientError("UnauthorizedOperation", "You are not\nauthorized")).apply(_no_clients, plan)
    assert (outcome.status, outcome.verified) == (FAILED, False)
    assert outcome.message == "UnauthorizedOperation: You are not authorized"
    assert outcome.before == outcome.after == {"configuration": {"vpcId": "vpc-1"}}
    refused = Fake(write=ActionError("400", "refused inside the answer")).apply(_no_clients, plan)
    assert (refused.status, refused.error_code) == (FAILED, "400")


def test_a_bug_is_not_an_aws_error():
    assert aws_error(FakeClientError("Throttling", "slow down"))
    assert not aws_error(TypeError("bug"))
    with pytest.raises(TypeError):
        Fake(write=TypeError("bug")).apply(_no_clients, Fake().preview(_no_clients, VPC))


def test_a_plan_is_applied_by_its_own_action_only():
    with pytest.raises(ValueError, match="stop_instance cannot apply a plan of fake"):
        action_by_name("stop_instance").apply(_no_clients, Fake().preview(_no_clients, VPC))


def test_a_type_the_action_does_not_fix_is_blocked():
    plan = Fake().preview(_no_clients, Target("AWS::S3::Bucket", "b", ACCOUNT, REGION))
    assert plan.blocked == "fake does not apply to AWS::S3::Bucket"
    outcome = Fake().apply(_no_clients, plan)
    assert (outcome.status, outcome.message) == (FAILED, "Cannot apply: fake does not apply to AWS::S3::Bucket")


def test_notify_carries_the_message_and_calls_nothing():
    notify = action_by_name("notify")
    target = Target("AWS::S3::Bucket", "data", ACCOUNT, REGION,
                    {"message": "{resource_id} is public ({rule}); see {unknown}", "rule": "s3-public-read",
                     "recipients": ["adam"]})
    plan = notify.preview(_no_clients, target)
    assert (plan.api_call, plan.noop, plan.blocked) == ("guardrail:Notify", False, "")
    assert plan.parameters == {"message": "data is public (s3-public-read); see {unknown}", "recipients": ["adam"]}
    outcome = notify.apply(_no_clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, False)
    assert outcome.message == "Notification handed to the portal: data is public (s3-public-read); see {unknown}"
    default = notify.preview(_no_clients, Target("AWS::EC2::Instance", "i-1", ACCOUNT, REGION)).parameters
    assert default == {"message": f"AWS::EC2::Instance i-1 in account {ACCOUNT} ({REGION}) needs attention"}
