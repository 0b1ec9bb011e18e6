"""The sandbox's Event history answers LookupEvents as AWS does (moto lacks it): every account, trail or not."""

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from portal import aws
from sandbox.operator import operator_client

ACCOUNT = settings.AWS_MANAGEMENT_ACCOUNT_ID  # no trail there: the history is kept all the same


def test_it_pages_newest_first_and_filters_on_one_attribute(sandbox):
    ec2 = operator_client("ec2", ACCOUNT, region="eu-west-1")
    for number in range(3):
        ec2.create_security_group(GroupName=f"g{number}", Description="x")
    ec2.describe_vpcs()
    sandbox.flush()
    cloudtrail = operator_client("cloudtrail", ACCOUNT, region="eu-west-1")
    now = datetime.now(timezone.utc)
    window = {"StartTime": now - timedelta(minutes=5), "EndTime": now + timedelta(minutes=1)}
    made = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateSecurityGroup"}]}
    first = cloudtrail.lookup_events(MaxResults=2, **made, **window)
    second = cloudtrail.lookup_events(MaxResults=2, NextToken=first["NextToken"], **made, **window)
    events = first["Events"] + second["Events"]
    assert "NextToken" not in second and [e["EventName"] for e in events] == ["CreateSecurityGroup"] * 3
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    assert len({e["EventId"] for e in events}) == 3 and all(e["CloudTrailEvent"] for e in events)
    assert cloudtrail.lookup_events(**window)["Events"]  # the region's reads too, unfiltered
    assert not operator_client("cloudtrail", ACCOUNT, region="us-west-2").lookup_events(**made, **window)["Events"]


def test_it_refuses_what_aws_refuses(sandbox):
    cloudtrail = operator_client("cloudtrail", ACCOUNT)
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                                   {"AttributeKey": "Username", "AttributeValue": "b"}])
    assert aws.error_code(raised.value) == "InvalidLookupAttributesException"
    now = datetime.now(timezone.utc)
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(StartTime=now, EndTime=now - timedelta(hours=1))
    assert aws.error_code(raised.value) == "InvalidTimeRangeException"
