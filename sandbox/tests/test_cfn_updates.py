"""The sandbox's CloudFormation updates a stack as AWS does: resource by resource with AWS's events, replacements
cleaned up afterwards, a failed update rolled back to the previous resources; DeletionPolicy Snapshot; parameters of
change sets checked (sandbox.cfn_updates, sandbox.cfn_snapshots).

The expected sequences are AWS's own, recorded for the portal's progress tests
(catalog/provisioning/tests/fixtures/update_replacement.json and update_rollback.json, each with its "Sources":
docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-monitor-stack.html and a real
describe-stack-events of an instance replacement; github.com/trailofbits/algo pull 991 and issue 1285 for the
failed update, its rollback and EC2's "The requested configuration is currently not supported." reason). Both
update the same two-resource stack (a security group and an instance) that the fixture's "StackResourcesBefore"
and ResourceProperties describe, which TEMPLATE rebuilds: a new image replaces the instance; the instance type
"t3.mega", which EC2 does not offer, fails and rolls back. Each fixture's first PriorEventCount events are the
stack's create; what follows is the update, compared here with what the sandbox adds after its own create.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sandbox import cfn_lifecycle
from sandbox.testing import operator_clients

ACCOUNT = "111111111111"
FIXTURES = Path(__file__).resolve().parents[2] / "catalog" / "provisioning" / "tests" / "fixtures"
OLD_IMAGE, NEW_IMAGE = "ami-0c02fb55956c7d316", "ami-0d71ea30463e0ff8d"  # images the sandbox's EC2 has
TEMPLATE = """
Description: Guardrail sample - one web server behind a security group
Resources:
  WebServerSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Enable HTTP access via port 80
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0}]
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: %(image)s
      InstanceType: %(type)s
      SecurityGroupIds: [!GetAtt WebServerSecurityGroup.GroupId]
      Tags: [{Key: Name, Value: Guardrail web server}]
Outputs:
  Group: {Value: !GetAtt WebServerSecurityGroup.GroupId}
  Server: {Value: !Ref WebServer}
"""


def _template(image: str = OLD_IMAGE, kind: str = "t3.micro", extra: str = "") -> str:
    return TEMPLATE.replace("Outputs:", extra + "Outputs:") % {"image": image, "type": kind}


def _cfn():
    return operator_clients(ACCOUNT)("cloudformation")


def _ec2():
    return operator_clients(ACCOUNT)("ec2")


def _row(e: dict) -> tuple[str, str, str | None]:
    stack = e["ResourceType"] == "AWS::CloudFormation::Stack"
    reason = e.get("ResourceStatusReason") or None
    return ("Stack" if stack else e["LogicalResourceId"], e["ResourceStatus"],
            reason and re.sub(r"Request ID: [^;]+;", "Request ID: *;", reason))


def _recorded_update(name: str) -> list[tuple[str, str, str | None]]:
    """AWS's events of the update, oldest first, with the physical ids as they go."""
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    return [_row(e) for e in fixture["StackEvents"][::-1][fixture["PriorEventCount"]:]]


def _recorded_ids(name: str) -> list[str]:
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    return [e["PhysicalResourceId"] for e in fixture["StackEvents"][::-1][fixture["PriorEventCount"]:]
            if e["ResourceType"] != "AWS::CloudFormation::Stack"]


def _update_events(cfn, name: str, since: int) -> list[dict]:
    return cfn.describe_stack_events(StackName=name)["StackEvents"][::-1][since:]


def _created(cfn, name: str, template: str, **extra) -> int:
    cfn.create_stack(StackName=name, TemplateBody=template, **extra)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    return len(cfn.describe_stack_events(StackName=name)["StackEvents"])


def _physical(cfn, name: str) -> dict[str, str]:
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}


def _outputs(cfn, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def _state(ec2, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def _same_ids_as_recorded(events: list[dict], name: str, before: dict[str, str]) -> None:
    """Where AWS's events name the old physical resource, the sandbox's name the old one; elsewhere the new."""
    recorded = _recorded_ids(name)
    ids = [e.get("PhysicalResourceId") for e in events if e["ResourceType"] != "AWS::CloudFormation::Stack"]
    old_recorded = json.loads((FIXTURES / f"{name}.json").read_text())["StackResourcesBefore"]
    old_ids = {r["PhysicalResourceId"] for r in old_recorded}
    assert [i in old_ids for i in recorded] == [i in before.values() for i in ids]


def test_an_update_that_replaces_the_instance_goes_as_aws_went(sandbox):
    cfn, ec2 = _cfn(), _ec2()
    since = _created(cfn, "web", _template())
    before, outputs = _physical(cfn, "web"), _outputs(cfn, "web")
    cfn.update_stack(StackName="web", TemplateBody=_template(image=NEW_IMAGE))
    events = _update_events(cfn, "web", since)
    assert [_row(e) for e in events] == _recorded_update("update_replacement")
    _same_ids_as_recorded(events, "update_replacement", before)
    after = _physical(cfn, "web")
    assert after["WebServerSecurityGroup"] == before["WebServerSecurityGroup"]
    assert after["WebServer"] != before["WebServer"]
    assert _state(ec2, before["WebServer"]) == "terminated" and _state(ec2, after["WebServer"]) == "running"
    assert _outputs(cfn, "web") == {**outputs, "Server": after["WebServer"]}
    assert cfn.describe_stacks(StackName="web")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def test_an_update_the_service_refuses_rolls_back_as_aws_did(sandbox):
    cfn, ec2 = _cfn(), _ec2()
    since = _created(cfn, "web", _template())
    before = _physical(cfn, "web")
    cfn.update_stack(StackName="web", TemplateBody=_template(kind="t3.mega"))
    events = _update_events(cfn, "web", since)
    assert [_row(e) for e in events] == _recorded_update("update_rollback")
    _same_ids_as_recorded(events, "update_rollback", before)
    assert _physical(cfn, "web") == before
    instance = ec2.describe_instances(InstanceIds=[before["WebServer"]])["Reservations"][0]["Instances"][0]
    assert instance["InstanceType"] == "t3.micro" and instance["State"]["Name"] == "running"
    assert "t3.micro" in cfn.get_template(StackName="web")["TemplateBody"]
    assert cfn.describe_stacks(StackName="web")["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"


BUCKET = "  Logs:\n    Type: AWS::S3::Bucket\n"


def test_a_failed_update_gives_back_the_replaced_resource_and_removes_what_it_added(sandbox):
    cfn, ec2, s3 = _cfn(), _ec2(), operator_clients(ACCOUNT)("s3")
    parameters = "Parameters:\n  Size: {Type: String, Default: small}\n"
    since = _created(cfn, "web", parameters + _template())
    before, outputs = _physical(cfn, "web"), _outputs(cfn, "web")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    # a new group description replaces the group; the instance refers to it and its new image does not exist
    changed = (parameters.replace("small", "large") + _template(image="ami-0000000000000dead")).replace(
        "Enable HTTP access via port 80", "HTTP only").replace("  WebServer:\n", BUCKET + "  WebServer:\n")
    cfn.update_stack(StackName="web", TemplateBody=changed, Parameters=[{"ParameterKey": "Size",
                                                                          "ParameterValue": "huge"}])
    rows = [_row(e) for e in _update_events(cfn, "web", since)]
    assert [(r, s) for r, s, _ in rows] == [
        ("Stack", "UPDATE_IN_PROGRESS"),
        ("WebServerSecurityGroup", "UPDATE_IN_PROGRESS"), ("WebServerSecurityGroup", "UPDATE_IN_PROGRESS"),
        ("WebServerSecurityGroup", "UPDATE_COMPLETE"),
        ("Logs", "CREATE_IN_PROGRESS"), ("Logs", "CREATE_IN_PROGRESS"), ("Logs", "CREATE_COMPLETE"),
        ("WebServer", "UPDATE_IN_PROGRESS"), ("WebServer", "UPDATE_FAILED"),
        ("Stack", "UPDATE_ROLLBACK_IN_PROGRESS"),
        ("WebServerSecurityGroup", "UPDATE_IN_PROGRESS"), ("WebServerSecurityGroup", "UPDATE_COMPLETE"),
        ("WebServer", "UPDATE_IN_PROGRESS"), ("WebServer", "UPDATE_COMPLETE"),
        ("Stack", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
        ("Logs", "DELETE_IN_PROGRESS"), ("Logs", "DELETE_COMPLETE"),
        ("WebServerSecurityGroup", "DELETE_IN_PROGRESS"), ("WebServerSecurityGroup", "DELETE_COMPLETE"),
        ("Stack", "UPDATE_ROLLBACK_COMPLETE")]
    assert rows[8][2].startswith("The image id '[ami-0000000000000dead]' does not exist")
    assert rows[9][2] == "The following resource(s) failed to update: [WebServer]. "
    stack = cfn.describe_stacks(StackName="web")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _physical(cfn, "web") == before and _outputs(cfn, "web") == outputs
    assert stack["Parameters"] == [{"ParameterKey": "Size", "ParameterValue": "small"}]
    assert "Logs" not in cfn.get_template(StackName="web")["TemplateBody"]
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == buckets
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:aws:cloudformation:stack-name",
                                                    "Values": ["web"]}])["SecurityGroups"]
    assert [g["GroupId"] for g in groups] == [before["WebServerSecurityGroup"]]


def test_an_update_adds_and_removes_resources_over_time(sandbox):
    cfn, s3 = _cfn(), operator_clients(ACCOUNT)("s3")
    since = _created(cfn, "grow", _template(extra=BUCKET))
    bucket = _physical(cfn, "grow")["Logs"]
    queue = "  Jobs:\n    Type: AWS::SQS::Queue\n"
    cfn_lifecycle.configure(0.2)
    try:
        cfn.update_stack(StackName="grow", TemplateBody=_template(extra=queue))
        assert cfn.describe_stacks(StackName="grow")["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
        with pytest.raises(ClientError, match="is in UPDATE_IN_PROGRESS state and can not be updated"):
            cfn.update_stack(StackName="grow", TemplateBody=_template())
        deadline = time.monotonic() + 10
        while cfn.describe_stacks(StackName="grow")["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        cfn_lifecycle.configure(0)
    assert [_row(e) for e in _update_events(cfn, "grow", since)] == [
        ("Stack", "UPDATE_IN_PROGRESS", "User Initiated"),
        ("Jobs", "CREATE_IN_PROGRESS", None), ("Jobs", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("Jobs", "CREATE_COMPLETE", None),
        ("Stack", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None),
        ("Logs", "DELETE_IN_PROGRESS", None), ("Logs", "DELETE_COMPLETE", None),
        ("Stack", "UPDATE_COMPLETE", None)]
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(_physical(cfn, "grow")) == {"WebServerSecurityGroup", "WebServer", "Jobs"}


def test_an_executed_update_change_set_updates_as_update_stack_does(sandbox):
    cfn = _cfn()
    since = _created(cfn, "web", _template())
    cfn.create_change_set(StackName="web", ChangeSetName="image", ChangeSetType="UPDATE",
                          TemplateBody=_template(image=NEW_IMAGE))
    changes = cfn.describe_change_set(StackName="web", ChangeSetName="image")["Changes"]
    assert [(c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"]) for c in changes] == [
        ("WebServer", "True")]
    cfn.execute_change_set(StackName="web", ChangeSetName="image")
    assert [_row(e) for e in _update_events(cfn, "web", since)] == _recorded_update("update_replacement")


LAMP = (Path(__file__).resolve().parents[2] / "catalog" / "demo" / "lamp-v2.yaml").read_text()
GOOD = [{"ParameterKey": "DBPassword", "ParameterValue": "Passw0rdPassw0rd"}]


def test_create_change_set_refuses_values_as_create_stack_does(sandbox):
    cfn = _cfn()
    bad = GOOD + [{"ParameterKey": "Environment", "ParameterValue": "prod"}]
    with pytest.raises(ClientError) as refused:
        cfn.create_change_set(StackName="new", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=LAMP,
                              Parameters=bad)
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert refused.value.response["Error"]["Message"] == "Parameter 'Environment' must be one of AllowedValues"
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "new"]
    cfn.create_stack(StackName="lamp", TemplateBody=LAMP, Parameters=GOOD)
    with pytest.raises(ClientError, match="Parameters: \\[DBPassword\\] must have values"):
        cfn.create_change_set(StackName="lamp", ChangeSetName="nopass", ChangeSetType="UPDATE", TemplateBody=LAMP,
                              Parameters=[{"ParameterKey": "InstanceType", "ParameterValue": "t3.small"}])
    with pytest.raises(ClientError, match="Parameter DBPassword failed to satisfy constraint"):
        cfn.create_change_set(StackName="lamp", ChangeSetName="short", ChangeSetType="UPDATE", TemplateBody=LAMP,
                              Parameters=[{"ParameterKey": "DBPassword", "ParameterValue": "short"}])
    cfn.create_change_set(StackName="lamp", ChangeSetName="kept", ChangeSetType="UPDATE", TemplateBody=LAMP,
                          Parameters=[{"ParameterKey": "DBPassword", "UsePreviousValue": True},
                                      {"ParameterKey": "InstanceType", "ParameterValue": "t3.small"}])
    changes = cfn.describe_change_set(StackName="lamp", ChangeSetName="kept")["Changes"]
    assert [c["ResourceChange"]["LogicalResourceId"] for c in changes] == ["WebServer"]


DATABASE = """
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    %(policy)s
    Properties:
      DBInstanceClass: db.t3.micro
      Engine: mysql
      AllocatedStorage: "20"
      MasterUsername: admin
      MasterUserPassword: Passw0rdPassw0rd
  Disk:
    Type: AWS::EC2::Volume
    %(policy)s
    Properties: {AvailabilityZone: us-east-1a, Size: 8}
"""


@pytest.mark.parametrize(("policy", "snapshots"), [
    ("DeletionPolicy: Snapshot", 1), ("", 1), ("DeletionPolicy: Delete", 0)])
def test_a_delete_takes_the_final_snapshots_deletion_policy_asks_for(sandbox, policy, snapshots):
    cfn, ec2, rds = _cfn(), _ec2(), operator_clients(ACCOUNT)("rds")
    stack_id = cfn.create_stack(StackName="db", TemplateBody=DATABASE % {"policy": policy})["StackId"]
    made = _physical(cfn, "db")
    cfn.delete_stack(StackName="db")
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert rds.describe_db_instances()["DBInstances"] == []
    kept = [s for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]]
    assert len(kept) == snapshots  # AWS's default for a DB instance outside a cluster is Snapshot
    if kept:
        assert re.fullmatch(r"db-snapshot-database-[a-z0-9]{12}", kept[0]["DBSnapshotIdentifier"])
        assert kept[0]["DBInstanceIdentifier"] == made["Database"]
    volume_snapshots = ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [made["Disk"]]}])["Snapshots"]
    assert len(volume_snapshots) == (1 if "Snapshot" in policy else 0)  # a volume's default is Delete
    assert not ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [made["Disk"]]}])["Volumes"]
    statuses = [_row(e)[:2] for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"][::-1]]
    assert ("Database", "DELETE_COMPLETE") in statuses and ("Disk", "DELETE_COMPLETE") in statuses


def test_what_an_update_drops_or_replaces_follows_its_deletion_and_update_replace_policies(sandbox):
    cfn, ec2, s3 = _cfn(), _ec2(), operator_clients(ACCOUNT)("s3")
    kept = "  Logs:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n"
    template = _template(extra=kept).replace("  WebServerSecurityGroup:\n    Type: AWS::EC2::SecurityGroup\n",
                                             "  WebServerSecurityGroup:\n    Type: AWS::EC2::SecurityGroup\n"
                                             "    UpdateReplacePolicy: Retain\n")
    since = _created(cfn, "web", template)
    before = _physical(cfn, "web")
    # the group's new description replaces it; the instance names it in SecurityGroupIds (no interruption)
    cfn.update_stack(StackName="web", TemplateBody=template.replace(kept, "").replace(
        "Enable HTTP access via port 80", "HTTP only"))
    rows = [_row(e) for e in _update_events(cfn, "web", since)]
    assert rows[-4:] == [("Stack", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None), ("Logs", "DELETE_SKIPPED", None),
                         ("WebServerSecurityGroup", "DELETE_SKIPPED", None), ("Stack", "UPDATE_COMPLETE", None)]
    assert ("WebServer", "UPDATE_COMPLETE", None) in rows  # it refers to the replaced group: updated in place
    after = _physical(cfn, "web")
    assert set(after) == {"WebServerSecurityGroup", "WebServer"} and after["WebServer"] == before["WebServer"]
    assert ec2.describe_security_groups(GroupIds=[before["WebServerSecurityGroup"]])["SecurityGroups"]
    instance = ec2.describe_instances(InstanceIds=[after["WebServer"]])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [after["WebServerSecurityGroup"]]
    assert before["Logs"] in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_a_replacement_of_a_resource_with_a_name_of_its_own_fails_and_rolls_back(sandbox):
    cfn, ec2 = _cfn(), _ec2()
    named = _template().replace("      GroupDescription:", "      GroupName: web-sg\n      GroupDescription:")
    since = _created(cfn, "web", named)
    before = _physical(cfn, "web")
    cfn.update_stack(StackName="web", TemplateBody=named.replace("Enable HTTP access via port 80", "HTTP only"))
    rows = [_row(e) for e in _update_events(cfn, "web", since)]
    assert rows[:4] == [
        ("Stack", "UPDATE_IN_PROGRESS", "User Initiated"),
        ("WebServerSecurityGroup", "UPDATE_IN_PROGRESS",
         "Requested update requires the creation of a new physical resource; hence creating one."),
        ("WebServerSecurityGroup", "UPDATE_FAILED", "CloudFormation cannot update a stack when a custom-named "
                                                    "resource requires replacing. Rename web-sg and update the "
                                                    "stack again."),
        ("Stack", "UPDATE_ROLLBACK_IN_PROGRESS",
         "The following resource(s) failed to update: [WebServerSecurityGroup]. ")]
    assert rows[-1] == ("Stack", "UPDATE_ROLLBACK_COMPLETE", None)
    assert _physical(cfn, "web") == before
    group = ec2.describe_security_groups(GroupIds=[before["WebServerSecurityGroup"]])["SecurityGroups"][0]
    assert group["Description"] == "Enable HTTP access via port 80"


def test_an_update_that_changes_nothing_is_refused(sandbox):
    cfn = _cfn()
    _created(cfn, "web", _template())
    with pytest.raises(ClientError, match="No updates are to be performed."):
        cfn.update_stack(StackName="web", TemplateBody=_template())
    assert cfn.describe_stacks(StackName="web")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_the_rds_sample_leaves_a_snapshot_when_its_database_is_replaced_and_when_it_is_deleted(sandbox):
    """aws-cloudformation-templates' RDS_with_DBParameterGroup.yaml: DeletionPolicy and UpdateReplacePolicy
    Snapshot on its DB instance; a new DBName replaces the instance (Update requires: Replacement)."""
    from sandbox.testing import samples_path

    sample = Path(samples_path("templates", "aws-cloudformation-templates", "RDS",
                               "RDS_with_DBParameterGroup.yaml")).read_text()
    cfn, rds = _cfn(), operator_clients(ACCOUNT)("rds")
    stack_id = cfn.create_stack(StackName="rds", TemplateBody=sample,
                                Parameters=[{"ParameterKey": "DBUser", "ParameterValue": "admin"}])["StackId"]
    first = _physical(cfn, "rds")["MyDB"]
    cfn.update_stack(StackName="rds", TemplateBody=sample,
                     Parameters=[{"ParameterKey": "DBUser", "UsePreviousValue": True},
                                 {"ParameterKey": "DBName", "ParameterValue": "Other"}])
    assert cfn.describe_stacks(StackName="rds")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    second = _physical(cfn, "rds")["MyDB"]
    assert second != first and [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]] == [
        second]
    cfn.delete_stack(StackName="rds")
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    snapshots = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert sorted(s["DBInstanceIdentifier"] for s in snapshots) == sorted([first, second])
    assert all(re.fullmatch(r"rds-snapshot-mydb-[a-z0-9]{12}", s["DBSnapshotIdentifier"]) for s in snapshots)
    assert rds.describe_db_instances()["DBInstances"] == []


def test_a_resource_choosing_by_a_condition_the_new_values_turn_around_is_updated(sandbox):
    cfn, ec2 = _cfn(), _ec2()
    chosen = ("Parameters:\n  Mode: {Type: String, Default: a}\nConditions:\n  IsA: !Equals [!Ref Mode, a]\n"
              + _template().replace("Tags: [{Key: Name, Value: Guardrail web server}]",
                                    "Tags: [{Key: mode, Value: !If [IsA, first, second]}]"))
    since = _created(cfn, "web", chosen)
    server = _physical(cfn, "web")["WebServer"]
    cfn.update_stack(StackName="web", TemplateBody=chosen, Parameters=[{"ParameterKey": "Mode", "ParameterValue": "b"}])
    assert [_row(e) for e in _update_events(cfn, "web", since)] == [
        ("Stack", "UPDATE_IN_PROGRESS", "User Initiated"), ("WebServer", "UPDATE_IN_PROGRESS", None),
        ("WebServer", "UPDATE_COMPLETE", None), ("Stack", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None),
        ("Stack", "UPDATE_COMPLETE", None)]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [server]}])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["mode"] == "second"
