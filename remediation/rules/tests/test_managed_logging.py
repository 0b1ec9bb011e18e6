"""cloudtrail-enabled and multi-region-cloudtrail-enabled (account-level, periodic): on hand-written trails and on
trails made in the sandbox AWS and read through the recorder's trail collector."""

import pytest

from audit.config.collectors import cloudtrail as collectors
from portal import aws
from sandbox.bootstrap import TRAIL_NAME
from sandbox.testing import kit, operator_clients
from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    AccountView,
    Evaluation,
    ResourceView,
)
from remediation.rules.managed import rule_by_name
from remediation.rules.managed_logging import management_events

ACCOUNT = "111111111111"
REGION = "us-east-1"
ENABLED = rule_by_name("cloudtrail-enabled")
MULTI = rule_by_name("multi-region-cloudtrail-enabled")
BOTH = {"read", "write"}


def trail(name="main", logging=True, multi=True, basic=(), advanced=(), **more) -> ResourceView:
    config = {"name": name, "s3BucketName": "trail-bucket", "isMultiRegionTrail": multi, "isLogging": logging,
              "homeRegion": REGION, "eventSelectors": list(basic), "advancedEventSelectors": list(advanced), **more}
    return ResourceView("AWS::CloudTrail::Trail", name, ACCOUNT, REGION, config)


def account(*trails) -> AccountView:
    return AccountView(ACCOUNT, [REGION], {"AWS::CloudTrail::Trail": list(trails)} if trails else {})


def management(read_only=None, sources=None):
    fields = [{"field": "eventCategory", "equals": ["Management"]}]
    if read_only is not None:
        fields.append({"field": "readOnly", "equals": [read_only]})
    if sources:
        fields.append({"field": "eventSource", "notEquals": sources})
    return {"name": "management", "fieldSelectors": fields}


# ------------------------------------------------------------------------------------------- selectors


@pytest.mark.parametrize("basic, advanced, kinds, excluded", [
    ([], [], BOTH, False),  # no selectors: a trail's default, every management event
    ([{"readWriteType": "All", "includeManagementEvents": True}], [], BOTH, False),
    ([{"readWriteType": "WriteOnly", "includeManagementEvents": True}], [], {"write"}, False),
    ([{"readWriteType": "ReadOnly"}, {"readWriteType": "WriteOnly"}], [], BOTH, False),
    ([{"readWriteType": "All", "includeManagementEvents": False}], [], set(), False),
    ([{"readWriteType": "All", "excludeManagementEventSources": ["kms.amazonaws.com"]}], [], BOTH, True),
    ([], [management()], BOTH, False),
    ([], [management("true")], {"read"}, False),
    ([], [management("false"), management("true")], BOTH, False),
    ([], [management(sources=["kms.amazonaws.com"])], BOTH, True),
    ([], [{"name": "data", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}], set(), False),
])
def test_management_events_from_basic_or_advanced_selectors(basic, advanced, kinds, excluded):
    assert management_events({"eventSelectors": basic, "advancedEventSelectors": advanced}) == (kinds, excluded)


# ------------------------------------------------------------------------------------------- cloudtrail-enabled


def test_cloudtrail_enabled():
    assert ENABLED.evaluate_account(account(trail()), {}) == Evaluation(COMPLIANT, "Trail main is logging")
    assert ENABLED.evaluate_account(account(trail(multi=False)), {}).status == COMPLIANT
    assert ENABLED.evaluate_account(account(), {}) == Evaluation(NON_COMPLIANT, "No CloudTrail trail in the account")
    stopped = ENABLED.evaluate_account(account(trail(logging=False)), {})
    assert stopped == Evaluation(NON_COMPLIANT, "No trail qualifies (main: not logging)")
    params = {"s3BucketName": "audit-bucket"}
    elsewhere = ENABLED.evaluate_account(account(trail()), params)
    assert elsewhere == Evaluation(NON_COMPLIANT, "No trail qualifies (main: delivers to bucket trail-bucket, "
                                                  "not audit-bucket)")
    right = trail("audit", s3BucketName="audit-bucket", snsTopicARN="arn:aws:sns:us-east-1:1:t")
    assert ENABLED.evaluate_account(account(trail(), right), params | {"snsTopicArn": "arn:aws:sns:us-east-1:1:t"}) == (
        Evaluation(COMPLIANT, "Trail audit is logging"))
    assert ENABLED.evaluate_account(account(trail(logging=None)), {}).status == INSUFFICIENT_DATA


# ------------------------------------------------------------------------------------------- multi-region


def test_multi_region_cloudtrail_enabled():
    assert MULTI.evaluate_account(account(trail()), {}) == Evaluation(
        COMPLIANT, "Multi-region trail main is logging read and write management events")
    single = MULTI.evaluate_account(account(trail("local", multi=False)), {})
    assert single == Evaluation(NON_COMPLIANT, "No multi-region trail (trails: local)")
    write_only = trail(basic=[{"readWriteType": "WriteOnly", "includeManagementEvents": True}])
    assert MULTI.evaluate_account(account(write_only), {}) == Evaluation(
        NON_COMPLIANT, "No multi-region trail qualifies (main: records only write management events, not read and "
                       "write)")
    assert MULTI.evaluate_account(account(write_only), {"readWriteType": "WriteOnly"}).status == COMPLIANT
    assert MULTI.evaluate_account(account(write_only), {"includeManagementEvents": "false"}).status == COMPLIANT
    excluding = trail(advanced=[management(sources=["kms.amazonaws.com"])])
    assert "excludes management event sources" in MULTI.evaluate_account(account(excluding), {}).annotation
    stopped = MULTI.evaluate_account(account(trail(logging=False), trail("local", multi=False)), {})
    assert stopped == Evaluation(NON_COMPLIANT, "No multi-region trail qualifies (main: not logging)")
    assert MULTI.evaluate_account(account(trail(advanced=[management()])), {}).status == COMPLIANT


# ------------------------------------------------------------------------------------------- in the sandbox


def clients(service, region):
    return aws.client(service, account_id=ACCOUNT, region=region)


def recorded_account() -> AccountView:
    trails = [ResourceView(s.resource_type, s.resource_id, ACCOUNT, s.region, s.configuration, tags=s.tags)
              for s in collectors.TrailCollector().scan(clients, REGION)
              if s.resource_id != TRAIL_NAME]  # the kit's own trail set aside: the account as if it had none
    return AccountView(ACCOUNT, [REGION], {"AWS::CloudTrail::Trail": trails})


def test_recorded_trails_in_the_sandbox(sandbox):
    kit(ACCOUNT)
    assert ENABLED.evaluate_account(recorded_account(), {}).status == NON_COMPLIANT
    admin = operator_clients(ACCOUNT, REGION)  # the trails people make, read by the recorder as the portal
    admin("s3", REGION).create_bucket(Bucket="rules-trail-bucket")
    cloudtrail = admin("cloudtrail", REGION)
    cloudtrail.create_trail(Name="rules-local", S3BucketName="rules-trail-bucket", IsMultiRegionTrail=False)
    cloudtrail.start_logging(Name="rules-local")
    assert ENABLED.evaluate_account(recorded_account(), {}) == Evaluation(COMPLIANT, "Trail rules-local is logging")
    assert MULTI.evaluate_account(recorded_account(), {}).status == NON_COMPLIANT

    cloudtrail.create_trail(Name="rules-everywhere", S3BucketName="rules-trail-bucket", IsMultiRegionTrail=True)
    assert MULTI.evaluate_account(recorded_account(), {}).annotation == (
        "No multi-region trail qualifies (rules-everywhere: not logging)")
    cloudtrail.start_logging(Name="rules-everywhere")
    assert MULTI.evaluate_account(recorded_account(), {"s3BucketName": "rules-trail-bucket"}).status == COMPLIANT

    cloudtrail.put_event_selectors(TrailName="rules-everywhere", EventSelectors=[
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    assert "records only read management events" in MULTI.evaluate_account(recorded_account(), {}).annotation
    cloudtrail.put_event_selectors(TrailName="rules-everywhere", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    assert MULTI.evaluate_account(recorded_account(), {}).status == COMPLIANT

    cloudtrail.stop_logging(Name="rules-local")
    cloudtrail.stop_logging(Name="rules-everywhere")
    assert ENABLED.evaluate_account(recorded_account(), {}) == Evaluation(
        NON_COMPLIANT, "No trail qualifies (rules-everywhere: not logging; rules-local: not logging)")
