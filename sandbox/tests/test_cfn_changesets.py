"""The sandbox's change sets list the real changes as AWS's do (sandbox.cfn_changesets): Add, Modify (with
Replacement, Scope and Details by each property's "Update requires"), Remove; a parameter-only change too."""

from __future__ import annotations

import time

import pytest

from sandbox.testing import operator_clients

ACCOUNT = "111111111111"
TEMPLATE = """
Parameters:
  SshFrom: {Type: String, Default: 10.0.0.0/8}
  InstanceType: {Type: String, Default: t3.micro}
  Description: {Type: String, Default: web servers}
Resources:
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Ref Description
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: !Ref SshFrom}
  Server:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12c6146b
      InstanceType: !Ref InstanceType
      Tags: [{Key: Name, Value: server}]
  Logs:
    Type: AWS::S3::Bucket
"""


@pytest.fixture
def cfn(sandbox):
    client = operator_clients(ACCOUNT)("cloudformation")  # the account's administrator (the sandbox enforces IAM)
    client.create_stack(StackName="app", TemplateBody=TEMPLATE)
    deadline = time.monotonic() + 30
    while client.describe_stacks(StackName="app")["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return client


def _changes(cfn, template: str = TEMPLATE, **values: str) -> dict[str, dict]:
    cfn.create_change_set(StackName="app", ChangeSetName=f"preview{time.monotonic_ns()}", ChangeSetType="UPDATE",
                          TemplateBody=template,
                          Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()])
    summary = cfn.list_change_sets(StackName="app")["Summaries"][-1]
    answer = cfn.describe_change_set(StackName="app", ChangeSetName=summary["ChangeSetName"])
    return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in answer["Changes"]}


def test_a_parameter_only_change_to_the_ingress_modifies_the_group_without_replacing_it(cfn):
    changes = _changes(cfn, SshFrom="192.168.0.0/16")
    assert set(changes) == {"Web"}
    web = changes["Web"]
    assert (web["Action"], web["Replacement"], web["Scope"]) == ("Modify", "False", ["Properties"])
    assert web["PhysicalResourceId"].startswith("sg-")
    assert web["Details"] == [{"Target": {"Attribute": "Properties", "Name": "SecurityGroupIngress",
                                          "RequiresRecreation": "Never"},
                               "Evaluation": "Static", "ChangeSource": "ParameterReference",
                               "CausingEntity": "SshFrom"}]


def test_a_new_group_description_replaces_the_group(cfn):
    web = _changes(cfn, Description="app servers")["Web"]
    assert web["Replacement"] == "True"
    assert web["Details"][0]["Target"] == {"Attribute": "Properties", "Name": "GroupDescription",
                                           "RequiresRecreation": "Always"}


def test_an_instance_is_replaced_for_a_new_image_not_for_a_new_type(cfn):
    assert _changes(cfn, InstanceType="t3.small")["Server"]["Replacement"] == "False"
    server = _changes(cfn, TEMPLATE.replace("ami-12c6146b", "ami-0abcdef1234567890"))["Server"]
    assert server["Replacement"] == "True" and server["Details"][0]["ChangeSource"] == "DirectModification"
    assert server["Details"][0]["Target"]["Name"] == "ImageId"


def test_a_tag_change_is_in_the_tags_scope(cfn):
    server = _changes(cfn, TEMPLATE.replace("Value: server", "Value: web"))["Server"]
    assert (server["Scope"], server["Replacement"]) == (["Tags"], "False")
    assert server["Details"][0]["Target"] == {"Attribute": "Tags", "RequiresRecreation": "Never"}


def test_added_and_removed_resources(cfn):
    template = TEMPLATE.replace("  Logs:\n    Type: AWS::S3::Bucket\n", "  Topic:\n    Type: AWS::SNS::Topic\n")
    changes = _changes(cfn, template)
    assert {k: c["Action"] for k, c in changes.items()} == {"Topic": "Add", "Logs": "Remove"}
    assert "PhysicalResourceId" not in changes["Topic"] and changes["Logs"]["PhysicalResourceId"]
    assert "Replacement" not in changes["Logs"]


def test_nothing_changed_lists_nothing(cfn):
    assert _changes(cfn) == {}


def test_a_create_change_set_adds_everything(sandbox):
    cfn = operator_clients(ACCOUNT)("cloudformation")
    cfn.create_change_set(StackName="fresh", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=TEMPLATE)
    answer = cfn.describe_change_set(StackName="fresh", ChangeSetName="first")
    assert {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"] for c in answer["Changes"]} == {
        "Web": "Add", "Server": "Add", "Logs": "Add"}
