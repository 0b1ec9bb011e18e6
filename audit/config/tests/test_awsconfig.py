"""Reading AWS Config's own items (real accounts where Config runs), against botocore's real service model.

moto records no configuration history, so Config's answers are stubbed with botocore's Stubber, which checks
every request and response against the service model shipped with botocore."""

import json
from datetime import datetime, timezone

import pytest
from botocore.stub import Stubber

from audit.config.awsconfig import AwsConfigCollector, snapshot_from_item
from portal import aws

SG_CONFIG = {"groupId": "sg-0123456789abcdef0", "groupName": "web", "vpcId": "vpc-1", "ipPermissions": [
    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]}


@pytest.fixture
def config():
    client = aws.client("config", region="us-east-1")
    with Stubber(client) as stub:
        yield client, stub


def _select_result(**over) -> str:
    item = {"resourceId": "sg-0123456789abcdef0", "resourceName": "web", "resourceType": "AWS::EC2::SecurityGroup",
            "awsRegion": "us-east-1", "arn": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0123456789abcdef0",
            "configuration": SG_CONFIG, "supplementaryConfiguration": {}, "configurationItemStatus": "OK",
            "tags": [{"key": "owner", "value": "daisy"}],
            "relationships": [{"resourceId": "i-1", "resourceType": "AWS::EC2::Instance",
                               "relationshipName": "Is associated with Instance"}], **over}
    return json.dumps(item)


def test_a_scan_pages_through_the_advanced_query(config):
    client, stub = config
    expression = ("SELECT resourceId, resourceName, resourceType, awsRegion, arn, resourceCreationTime, configuration, "
                  "supplementaryConfiguration, tags, relationships, configurationItemStatus "
                  "WHERE resourceType = 'AWS::EC2::SecurityGroup' AND awsRegion = 'us-east-1'")
    stub.add_response("select_resource_config", {"Results": [_select_result()], "NextToken": "page-2"},
                      {"Expression": expression, "Limit": 100})
    stub.add_response("select_resource_config", {"Results": [
        _select_result(resourceId="sg-2", configurationItemStatus="ResourceDeleted")]},
        {"Expression": expression, "Limit": 100, "NextToken": "page-2"})
    found = list(AwsConfigCollector("AWS::EC2::SecurityGroup", False).scan(lambda s, r: client, "us-east-1"))
    stub.assert_no_pending_responses()
    [group] = found  # the deleted one is absent, so a full scan records its deletion
    assert group.resource_id == "sg-0123456789abcdef0" and group.tags == {"owner": "daisy"}
    assert group.configuration["ipPermissions"][0]["ipv4Ranges"] == [{"cidrIp": "0.0.0.0/0"}]
    assert [r.as_dict() for r in group.relationships] == [
        {"relationshipName": "Is associated with Instance", "resourceType": "AWS::EC2::Instance", "resourceId": "i-1"}]


def test_a_targeted_read_takes_the_newest_history_item(config):
    client, stub = config
    stub.add_response("list_discovered_resources", {"resourceIdentifiers": [
        {"resourceType": "AWS::IAM::User", "resourceId": "AIDAEXAMPLE", "resourceName": "daisy"}]},
        {"resourceType": "AWS::IAM::User", "resourceName": "daisy", "limit": 1})
    stub.add_response("get_resource_config_history", {"configurationItems": [{
        "version": "1.3", "accountId": "111111111111", "configurationItemCaptureTime": datetime(2026, 11, 28, tzinfo=timezone.utc),
        "configurationItemStatus": "OK", "configurationStateId": "1764300000000", "arn": "arn:aws:iam::111111111111:user/daisy",
        "resourceType": "AWS::IAM::User", "resourceId": "AIDAEXAMPLE", "resourceName": "daisy", "awsRegion": "global",
        "resourceCreationTime": datetime(2026, 1, 1, tzinfo=timezone.utc), "tags": {"team": "payments"},
        "relationships": [{"resourceType": "AWS::IAM::Policy", "resourceId": "ANPAEXAMPLE", "resourceName": "web-deploy",
                           "relationshipName": "Is attached to CustomerManagedPolicy"}],
        "configuration": json.dumps({"userName": "daisy", "userId": "AIDAEXAMPLE"}),
        "supplementaryConfiguration": {}}]},
        {"resourceType": "AWS::IAM::User", "resourceId": "AIDAEXAMPLE", "limit": 1})
    user = AwsConfigCollector("AWS::IAM::User", True).get(lambda s, r: client, "global", "daisy")
    stub.assert_no_pending_responses()
    # named as CloudTrail names it, so events and items meet
    assert (user.resource_id, user.region, user.tags) == ("daisy", "global", {"team": "payments"})
    assert user.relationships[0].resource_id == "web-deploy"
    assert user.configuration == {"userName": "daisy", "userId": "AIDAEXAMPLE"}


def test_a_resource_config_never_discovered_is_absent(config):
    client, stub = config
    stub.add_client_error("get_resource_config_history", "ResourceNotDiscoveredException",
                          expected_params={"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-gone", "limit": 1})
    assert AwsConfigCollector("AWS::EC2::SecurityGroup", False).get(lambda s, r: client, "us-east-1", "sg-gone") is None


def test_deleted_items_are_not_snapshots():
    assert snapshot_from_item(json.loads(_select_result(configurationItemStatus="ResourceDeleted"))) is None
    assert snapshot_from_item(json.loads(_select_result(configurationItemStatus="ResourceDiscovered"))) is not None
