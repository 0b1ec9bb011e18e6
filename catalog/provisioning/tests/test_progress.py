"""Launch progress from CloudFormation's answers, replayed poll by poll through a stubbed real client.

The fixtures are describe-stack-events sequences as CloudFormation emits them (see each file's
"Sources"). At every step the stubbed client answers describe_stacks, describe_stack_events and
describe_stack_resources as the service would have right after that event; botocore's Stubber
checks each answer against the real CloudFormation service model.
"""

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from catalog.provisioning.progress import StackProgress, events_since, first_failure, progress_from

FIXTURES = Path(__file__).parent / "fixtures"
TIMES = ("Timestamp", "CreationTime", "LastUpdatedTime", "DeletionTime")


def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _client():
    return botocore.session.get_session().create_client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def _as_botocore(value: Any) -> Any:
    """What botocore's parser hands back: timestamps as datetimes."""
    if isinstance(value, list):
        return [_as_botocore(v) for v in value]
    if isinstance(value, dict):
        return {k: datetime.fromisoformat(v) if k in TIMES and isinstance(v, str) else _as_botocore(v)
                for k, v in value.items()}
    return value


def _is_stack(event: dict[str, Any]) -> bool:
    return event["LogicalResourceId"] == event["StackName"]


def _stack_at(fx: dict[str, Any], seen: list[dict[str, Any]]) -> dict[str, Any]:
    """describe_stacks right after the last event seen."""
    last = [e for e in seen if _is_stack(e)][-1]
    stack = {**copy.deepcopy(fx["Stack"]), "StackStatus": last["ResourceStatus"]}
    if "ResourceStatusReason" in last:
        stack["StackStatusReason"] = last["ResourceStatusReason"]
    if fx["PriorEventCount"]:
        opening = seen[fx["PriorEventCount"]]
        stack["DeletionTime" if opening["ResourceStatus"] == "DELETE_IN_PROGRESS" else "LastUpdatedTime"] = \
            opening["Timestamp"]
    return stack


def _resources_at(fx: dict[str, Any], seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """describe_stack_resources right after the last event seen: the state before, moved on by the events."""
    rows = {r["LogicalResourceId"]: dict(r) for r in copy.deepcopy(fx["StackResourcesBefore"])}
    for e in seen[fx["PriorEventCount"]:]:
        row = rows.get(e["LogicalResourceId"], {})
        if _is_stack(e) or (e["ResourceStatus"].startswith("DELETE_") and row.get("PhysicalResourceId")
                            and e["PhysicalResourceId"] != row["PhysicalResourceId"]):
            continue  # the stack itself, or the replaced copy of a resource being cleaned up
        rows[e["LogicalResourceId"]] = {
            **row, "StackName": e["StackName"], "StackId": e["StackId"], "LogicalResourceId": e["LogicalResourceId"],
            "PhysicalResourceId": e["PhysicalResourceId"] or row.get("PhysicalResourceId", ""),
            "ResourceType": e["ResourceType"], "Timestamp": e["Timestamp"], "ResourceStatus": e["ResourceStatus"]}
    return list(rows.values())


def _poll(client, fx: dict[str, Any]) -> StackProgress:
    """What the portal does on each htmx poll."""
    stack_id = fx["Stack"]["StackId"]
    stack = client.describe_stacks(StackName=stack_id)["Stacks"][0]
    events = client.describe_stack_events(StackName=stack_id)["StackEvents"]
    resources = client.describe_stack_resources(StackName=stack_id)["StackResources"]
    return progress_from(template_resources=fx["TemplateResources"], stack=stack, events=events, resources=resources)


def _replay(name: str) -> list[StackProgress]:
    """One poll after each event of the operation (earlier operations' events stay in the history)."""
    fx = _load(name)
    chronological = list(reversed(fx["StackEvents"]))
    client, polls = _client(), []
    expected = {"StackName": fx["Stack"]["StackId"]}
    with Stubber(client) as stubber:
        for count in range(fx["PriorEventCount"] + 1, len(chronological) + 1):
            seen = chronological[:count]
            stubber.add_response("describe_stacks", _as_botocore({"Stacks": [_stack_at(fx, seen)]}), expected)
            stubber.add_response("describe_stack_events", _as_botocore({"StackEvents": seen[::-1]}), expected)
            stubber.add_response("describe_stack_resources",
                                 _as_botocore({"StackResources": _resources_at(fx, seen)}), expected)
            polls.append(_poll(client, fx))
        stubber.assert_no_pending_responses()
    return polls


def _statuses(progress: StackProgress) -> dict[str, str]:
    return {r.logical_id: r.status for r in progress.resources}


def _never_decreases(polls: list[StackProgress]) -> bool:
    return all(a.percent <= b.percent for a, b in zip(polls, polls[1:]))


def test_it_follows_a_successful_create_resource_by_resource():
    polls = _replay("create_success")

    assert [p.percent for p in polls] == [0, 0, 0, 50, 50, 50, 50, 50, 99, 100]
    assert _never_decreases(polls)
    assert _statuses(polls[0]) == {"WebServerSecurityGroup": "PENDING", "WebServer": "PENDING"}
    assert _statuses(polls[3]) == {"WebServerSecurityGroup": "CREATE_COMPLETE", "WebServer": "PENDING"}
    assert polls[6].resources[1].reason == "Eventual consistency check initiated"
    assert {(p.phase, p.done) for p in polls[:-1]} == {("creating", False)}
    last = polls[-1]
    assert (last.phase, last.done, last.succeeded, last.stack_status) == ("complete", True, True, "CREATE_COMPLETE")
    assert [(r.logical_id, r.type, r.status, r.physical_id) for r in last.resources] == [
        ("WebServerSecurityGroup", "AWS::EC2::SecurityGroup", "CREATE_COMPLETE", "sg-0c7d2b9e4a1f53e86"),
        ("WebServer", "AWS::EC2::Instance", "CREATE_COMPLETE", "i-0b5e3a91c7d4f2e68"),
    ]
    assert isinstance(last.resources[1].updated, datetime)


def test_it_names_the_resource_failure_through_the_rollback():
    polls = _replay("create_rollback")
    image_missing = "The image id '[ami-0a3c3a20c09d6f377]' does not exist (Service: AmazonEC2; Status Code: 400;"

    assert [p.percent for p in polls] == [0, 0, 0, 50, 50, 99, 99, 99, 99, 99, 100]
    assert _never_decreases(polls)
    failed = polls[5]
    assert (failed.phase, failed.done) == ("creating", False)
    assert _statuses(failed)["WebServer"] == "CREATE_FAILED"
    assert failed.reason.startswith(image_missing)
    rolling = polls[6]
    assert (rolling.phase, rolling.stack_status) == ("rolling_back", "ROLLBACK_IN_PROGRESS")
    assert rolling.reason.startswith(image_missing)  # not "The following resource(s) failed to create: …"
    assert _statuses(polls[8]) == {"WebServerSecurityGroup": "DELETE_IN_PROGRESS", "WebServer": "DELETE_COMPLETE"}
    last = polls[-1]
    assert (last.phase, last.done, last.succeeded, last.stack_status) == ("failed", True, False, "ROLLBACK_COMPLETE")
    assert last.reason.startswith(image_missing)
    assert _statuses(last) == {"WebServerSecurityGroup": "DELETE_COMPLETE", "WebServer": "DELETE_COMPLETE"}
    assert last.resources[1].reason.startswith(image_missing)  # the row keeps why it went away


def test_it_keeps_the_new_instance_while_the_replaced_one_is_cleaned_up():
    polls = _replay("update_replacement")
    new, old = "i-04f1d8c2a6e97b351", "i-0b5e3a91c7d4f2e68"

    first = polls[0]
    assert (first.phase, first.percent) == ("updating", 0)
    assert _statuses(first) == {"WebServerSecurityGroup": "CREATE_COMPLETE", "WebServer": "CREATE_COMPLETE"}
    assert [p.resources[1].physical_id for p in polls[1:4]] == [old, new, new]
    cleanup = polls[5:7]  # DELETE_IN_PROGRESS, DELETE_COMPLETE of the old instance
    assert {(p.phase, p.stack_status) for p in cleanup} == {("updating", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")}
    assert {(p.resources[1].status, p.resources[1].physical_id) for p in cleanup} == {("UPDATE_COMPLETE", new)}
    assert [p.percent for p in polls] == [0, 0, 0, 50, 50, 50, 50, 100]
    last = polls[-1]
    assert (last.phase, last.done, last.succeeded, last.reason) == ("complete", True, True, "")
    assert _statuses(last) == {"WebServerSecurityGroup": "CREATE_COMPLETE", "WebServer": "UPDATE_COMPLETE"}


def test_it_counts_only_the_events_of_the_latest_operation():
    fx = _load("update_replacement")
    at_start = fx["StackEvents"][-(fx["PriorEventCount"] + 1):]  # the update's "User Initiated" + the create
    stack = {**fx["Stack"], "StackStatus": "UPDATE_IN_PROGRESS"}

    progress = progress_from(template_resources=fx["TemplateResources"], stack=stack, events=at_start, resources=None)

    assert (progress.phase, progress.percent) == ("updating", 0)
    assert _statuses(progress) == {"WebServerSecurityGroup": "PENDING", "WebServer": "PENDING"}


def test_it_reports_a_failed_update_that_rolled_back_as_failed():
    polls = _replay("update_rollback")

    assert [p.phase for p in polls] == ["updating"] * 3 + ["rolling_back"] * 4 + ["failed"]
    assert _statuses(polls[2])["WebServer"] == "UPDATE_FAILED"
    last = polls[-1]
    assert (last.done, last.succeeded, last.percent) == (True, False, 100)
    assert last.stack_status == "UPDATE_ROLLBACK_COMPLETE"
    assert last.reason.startswith("The requested configuration is currently not supported.")
    assert _statuses(last) == {"WebServerSecurityGroup": "CREATE_COMPLETE", "WebServer": "UPDATE_COMPLETE"}


def test_it_follows_a_delete_to_the_end():
    polls = _replay("delete")

    assert [p.percent for p in polls] == [0, 0, 50, 50, 99, 100]
    assert [p.phase for p in polls] == ["deleting"] * 5 + ["deleted"]
    assert _statuses(polls[1]) == {"WebServerSecurityGroup": "CREATE_COMPLETE", "WebServer": "DELETE_IN_PROGRESS"}
    last = polls[-1]
    assert (last.done, last.succeeded, last.stack_status) == (True, True, "DELETE_COMPLETE")
    assert _statuses(last) == {"WebServerSecurityGroup": "DELETE_COMPLETE", "WebServer": "DELETE_COMPLETE"}


def test_it_still_knows_a_deleted_stack_that_describe_stacks_no_longer_finds():
    fx = _load("delete")
    client = _client()
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_stacks", "ValidationError", "Stack with id gr-web-3f9c does not exist", 400,
                                 expected_params={"StackName": "gr-web-3f9c"})
        stubber.add_response("describe_stack_events", _as_botocore({"StackEvents": fx["StackEvents"]}),
                             {"StackName": fx["Stack"]["StackId"]})
        with pytest.raises(ClientError):
            client.describe_stacks(StackName="gr-web-3f9c")
        events = client.describe_stack_events(StackName=fx["Stack"]["StackId"])["StackEvents"]

    progress = progress_from(template_resources=fx["TemplateResources"], stack=None, events=events, resources=None)

    assert (progress.phase, progress.done, progress.succeeded, progress.percent) == ("deleted", True, True, 100)
    assert _statuses(progress) == {"WebServerSecurityGroup": "DELETE_COMPLETE", "WebServer": "DELETE_COMPLETE"}


def test_it_ends_a_create_deleted_on_failure_as_deleted_but_not_succeeded():
    fx = _load("create_rollback")
    chronological = list(reversed(fx["StackEvents"]))[:6]  # up to WebServer CREATE_FAILED
    delete = {**chronological[0], "EventId": "f3a1c2d4-406e-11f0-8e1b-0aff5c6d7e8f",
              "Timestamp": "2025-06-03T14:02:25.000000+00:00", "ResourceStatus": "DELETE_IN_PROGRESS",
              "ResourceStatusReason": "The following resource(s) failed to create: [WebServer]. "
                                      "Delete requested by user."}
    done = {**delete, "EventId": "f9b2d3e5-406e-11f0-8e1b-0aff5c6d7e8f", "ResourceStatus": "DELETE_COMPLETE",
            "Timestamp": "2025-06-03T14:02:31.000000+00:00"}
    done.pop("ResourceStatusReason")
    events = [done, delete, *chronological[::-1]]

    progress = progress_from(template_resources=fx["TemplateResources"], stack=None, events=events)

    assert (progress.phase, progress.done, progress.succeeded) == ("deleted", True, False)
    assert progress.reason.startswith("The image id '[ami-0a3c3a20c09d6f377]' does not exist")


def test_it_lists_moto_resources_that_only_describe_stack_resources_reports():
    fx = _load("moto_create")
    stack_id = fx["DescribeStacks"]["Stacks"][0]["StackId"]
    client = _client()
    with Stubber(client) as stubber:
        for operation in ("describe_stacks", "describe_stack_events", "describe_stack_resources"):
            key = "".join(part.title() for part in operation.split("_"))
            stubber.add_response(operation, _as_botocore(fx[key]), {"StackName": stack_id})
        progress = _poll(client, {"Stack": {"StackId": stack_id}, "TemplateResources": fx["TemplateResources"]})

    assert all(e["ResourceType"] == "AWS::CloudFormation::Stack" for e in fx["DescribeStackEvents"]["StackEvents"])
    assert (progress.phase, progress.percent, progress.done, progress.succeeded) == ("complete", 100, True, True)
    assert [(r.logical_id, r.status) for r in progress.resources] == [
        ("WebServerSecurityGroup", "CREATE_COMPLETE"), ("WebServer", "CREATE_COMPLETE")]
    assert progress.resources[0].physical_id.startswith("sg-")
    assert progress.resources[1].physical_id.startswith("i-")


def test_it_blames_the_cause_not_the_resources_cancelled_because_of_it():
    # As in cloudfoundry/bosh-bootloader#58: one real failure, the resources in flight "cancelled".
    def failed(logical_id: str, reason: str) -> dict[str, Any]:
        return {"StackName": "s", "StackId": "arn:s", "LogicalResourceId": logical_id, "ResourceType": "AWS::EC2::EIP",
                "PhysicalResourceId": "", "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": reason}

    operation = [failed("BOSHUser", "Resource creation cancelled"),
                 failed("NATEIP", "The maximum number of addresses has been reached."),
                 failed("InternalRoute", "Resource creation cancelled")]

    assert first_failure(operation) == "The maximum number of addresses has been reached."
    assert first_failure(operation[:1]) == "Resource creation cancelled"
    assert first_failure([]) is None


def test_it_returns_only_the_events_newer_than_the_last_one_shown():
    events = _load("create_success")["StackEvents"]  # newest first, as AWS returns them

    assert events_since(events, events[2]["EventId"]) == events[:2]
    assert events_since(events, events[0]["EventId"]) == []
    assert events_since(events, None) == events
    assert events_since(events, "not-on-this-page") == events


def test_it_serializes_for_json_responses():
    polls = _replay("create_success")

    data = json.loads(json.dumps(polls[-1].as_dict()))

    assert data["phase"] == "complete" and data["percent"] == 100
    assert data["resources"][0]["logical_id"] == "WebServerSecurityGroup"
    assert data["resources"][0]["updated"].startswith("2025-06-03T14:02")
    assert json.dumps(polls[0].as_dict())  # PENDING rows: updated is None
