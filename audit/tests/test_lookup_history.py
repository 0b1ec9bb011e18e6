"""LookupEvents against the sandbox's Event history: every region the account has enabled (allowed or not), read
again from a while before the last read, so an event that shows up late still arrives, and nothing is stored twice."""

from datetime import timedelta

import pytest

from audit.models import CloudTrailEvent, LookupCursor
from audit.services import LOOKUP_OVERLAP
from audit.tasks import cloudtrail_lookup_poll
from conftest import SteppedClock
from portal.models import Account
from sandbox.bootstrap import bootstrap_from_portal
from sandbox.testing import as_person

PAYMENTS = "111111111111"


@pytest.fixture
def lookup_account(people, enforced_sandbox, monkeypatch):
    bootstrap_from_portal()
    Account.objects.filter(account_id=PAYMENTS).update(cloudtrail_source="LOOKUP_EVENTS")
    clock = SteppedClock(timedelta(0))
    monkeypatch.setattr(enforced_sandbox.app, "clock", clock)
    return clock


def _groups(name: str) -> list[CloudTrailEvent]:
    return [e for e in CloudTrailEvent.objects.filter(event_name="CreateSecurityGroup", account_id=PAYMENTS)
            if (e.raw.get("requestParameters") or {}).get("groupName") == name]


def test_an_event_older_than_the_newest_stored_one_still_arrives_once(lookup_account, enforced_sandbox):
    ec2 = as_person("daisy")("ec2")
    ec2.create_security_group(GroupName="first", Description="x")
    enforced_sandbox.flush()
    cloudtrail_lookup_poll()
    [first] = _groups("first")

    # A call made two minutes ago reaches the Event history only now (AWS: minutes late, not guaranteed).
    lookup_account.advance(-120)
    ec2.create_security_group(GroupName="late", Description="x")
    lookup_account.advance(120)
    enforced_sandbox.flush()
    cloudtrail_lookup_poll()
    [late] = _groups("late")
    assert late.event_time < first.event_time
    assert late.team.slug == "payments" and late.person is not None

    cloudtrail_lookup_poll()  # the window read again: nothing twice
    assert len(_groups("first")) == len(_groups("late")) == 1
    cursor = LookupCursor.objects.get(account_id=PAYMENTS, region="us-east-1")
    assert cursor.read_until - LOOKUP_OVERLAP < late.event_time  # the next read still covers it


def test_a_region_the_account_may_not_use_is_read_too(lookup_account, enforced_sandbox):
    assert "ap-southeast-2" not in Account.objects.get(account_id=PAYMENTS).allowed_regions
    as_person("daisy")("ec2", region="ap-southeast-2").create_security_group(GroupName="far-away", Description="x")
    enforced_sandbox.flush()
    cloudtrail_lookup_poll()
    [far] = _groups("far-away")
    assert far.region == "ap-southeast-2"
    assert LookupCursor.objects.filter(account_id=PAYMENTS, region="ap-southeast-2").exists()
