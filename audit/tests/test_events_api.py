import pytest

from audit.services import records_ingest


def _record(event_id, account, user, name="RunInstances", **extra):
    return {"eventID": event_id, "eventTime": f"2026-11-28T12:00:{event_id[-2:]}Z", "eventSource": "ec2.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "recipientAccountId": account,
            "userIdentity": {"type": "IAMUser", "userName": user, "accountId": account}, **extra}


@pytest.fixture
def events(people):
    records_ingest([
        _record("ev-01", "111111111111", "daisy", "AuthorizeSecurityGroupIngress",
                requestParameters={"groupId": "sg-123"}),
        _record("ev-02", "111111111111", "daisy", "DescribeInstances", readOnly=True),
        _record("ev-03", "222222222222", "dan", errorCode="AccessDenied"),
    ])


def test_it_shows_developers_only_their_teams_accounts(client, people, events):
    client.force_login(people.daisy)
    ids = {e["event_id"] for e in client.get("/api/events/").json()["results"]}
    assert ids == {"ev-01", "ev-02"}
    client.force_login(people.auditor)
    assert client.get("/api/events/").json()["count"] == 3


@pytest.mark.parametrize(("query", "expected"), [
    ("username=daisy", {"ev-01", "ev-02"}),
    ("team=research", {"ev-03"}),
    ("event_name=AuthorizeSecurityGroupIngress", {"ev-01"}),
    ("resource_id=sg-123", {"ev-01"}),
    ("read_only=true", {"ev-02"}),
    ("errors=true", {"ev-03"}),
    ("since=2026-11-28T12:00:02Z&until=2026-11-28T12:00:03Z", {"ev-02", "ev-03"}),
])
def test_it_filters_events(client, people, events, query, expected):
    client.force_login(people.auditor)
    results = client.get(f"/api/events/?{query}").json()["results"]
    assert {e["event_id"] for e in results} == expected


def test_it_answers_newest_first_with_the_contract_fields(client, people, events):
    client.force_login(people.auditor)
    results = client.get("/api/events/").json()["results"]
    assert [e["event_id"] for e in results] == ["ev-03", "ev-02", "ev-01"]
    assert {"event_id", "event_time", "event_name", "event_source", "username", "account_id", "region", "source_ip",
            "error_code", "read_only", "resources", "team"} <= set(results[0])


def test_it_names_a_bad_filter(client, people, events):
    client.force_login(people.auditor)
    response = client.get("/api/events/?since=yesterday")
    assert response.status_code == 400 and "since" in response.json()


def test_it_finds_daisys_event_on_the_page(client, people, events):
    client.force_login(people.auditor)
    html = client.get("/audit/events/?username=daisy").content.decode()
    assert "AuthorizeSecurityGroupIngress" in html and "ev-03" not in html
    detail = client.get("/audit/events/ev-01/").content.decode()
    assert "sg-123" in detail and "&quot;eventID&quot;" in detail


def test_it_purges_events_past_retention_in_batches(people, settings):
    from audit.models import CloudTrailEvent
    from audit.tasks import events_purge

    records_ingest([_record(f"old-{i:02d}", "111111111111", "daisy") for i in range(12)])
    records_ingest([{**_record("new-01", "111111111111", "daisy"), "eventTime": "2099-01-01T00:00:00Z"}])
    settings.CLOUDTRAIL_RETENTION_DAYS = 0  # the old ones happened earlier today
    from audit import services
    from django.utils import timezone

    assert services.events_purge(older_than=timezone.now(), batch=5) == 12  # three batches
    records_ingest([_record(f"old-{i:02d}", "111111111111", "daisy") for i in range(3)])
    assert events_purge() == 3
    assert list(CloudTrailEvent.objects.values_list("event_id", flat=True)) == ["new-01"]
    assert CloudTrailEvent.objects.count() == 1
