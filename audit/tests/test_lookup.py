"""The LookupEvents poller against CloudTrail's real service model (botocore's Stubber; moto lacks the call)."""

import json
from datetime import datetime, timezone

import botocore.session
from botocore.stub import Stubber

from audit.cloudtrail.lookup import PAGE_SIZE, Throttle, lookup_records
from audit.models import CloudTrailEvent
from audit.services import records_ingest

SINCE = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
UNTIL = datetime(2026, 11, 28, 11, tzinfo=timezone.utc)


def _event(event_id: str, name: str) -> dict:
    record = {"eventVersion": "1.08", "eventID": event_id, "eventTime": "2026-11-28T10:30:00Z",
              "eventSource": "iam.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
              "recipientAccountId": "111111111111",
              "userIdentity": {"type": "IAMUser", "userName": "daisy", "accountId": "111111111111"},
              "requestParameters": {"userName": "backdoor"}}
    return {"EventId": event_id, "EventName": name, "EventTime": SINCE, "EventSource": "iam.amazonaws.com",
            "Username": "daisy", "Resources": [{"ResourceType": "AWS::IAM::User", "ResourceName": "backdoor"}],
            "CloudTrailEvent": json.dumps(record)}


class FakeClock:
    def __init__(self) -> None:
        self.now, self.slept = 100.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_it_pages_through_lookup_events_at_two_requests_a_second(people):
    client = botocore.session.get_session().create_client(
        "cloudtrail", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    attribute = [{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}]
    with Stubber(client) as stub:
        stub.add_response("lookup_events", {"Events": [_event("l-1", "CreateUser"), _event("l-2", "CreateAccessKey")],
                                            "NextToken": "page-2"},
                          {"StartTime": SINCE, "EndTime": UNTIL, "MaxResults": PAGE_SIZE, "LookupAttributes": attribute})
        stub.add_response("lookup_events", {"Events": [_event("l-3", "AttachUserPolicy")]},
                          {"StartTime": SINCE, "EndTime": UNTIL, "MaxResults": PAGE_SIZE, "LookupAttributes": attribute,
                           "NextToken": "page-2"})
        fake = FakeClock()
        records = list(lookup_records(client=client, since=SINCE, until=UNTIL,
                                      attribute=("EventSource", "iam.amazonaws.com"),
                                      throttle=Throttle(clock=fake.clock, sleep=fake.sleep)))
        stub.assert_no_pending_responses()
    assert [r["eventID"] for r in records] == ["l-1", "l-2", "l-3"]
    assert fake.slept == [0.5]  # the second call waited for the rate limit
    assert records_ingest(records)["stored"] == 3
    assert CloudTrailEvent.objects.get(event_id="l-1").resources.get().resource_id == "backdoor"


def test_it_stops_on_an_empty_window(people):
    client = botocore.session.get_session().create_client(
        "cloudtrail", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_response("lookup_events", {"Events": []},
                          {"StartTime": SINCE, "EndTime": UNTIL, "MaxResults": PAGE_SIZE})
        assert list(lookup_records(client=client, since=SINCE, until=UNTIL)) == []


def test_it_polls_only_lookup_accounts_and_survives_an_unreachable_endpoint(people, settings):
    from audit.tasks import cloudtrail_lookup_poll
    from portal.models import Account

    Account.objects.filter(account_id="222222222222").update(cloudtrail_source="LOOKUP_EVENTS")
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    assert cloudtrail_lookup_poll() == 0  # logged and skipped, never raised
