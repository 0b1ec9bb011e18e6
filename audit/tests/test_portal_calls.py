"""Guardrail's own calls: its reads counted per account and day instead of stored, its writes stored and marked,
hidden from the history unless asked for; people's calls as before."""

import gzip
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit import services
from audit.models import CloudTrailEvent, LogFile, LogFileStatus, PortalCallCount
from audit.portal_calls import SESSION_PREFIXES, is_session_name
from audit.services import logfile_claim, logfile_ingest, lookup_poll, records_ingest

PAYMENTS, RESEARCH = "111111111111", "222222222222"
KEY = "AWSLogs/111111111111/CloudTrail/us-east-1/{day:%Y/%m/%d}/111111111111_CloudTrail_us-east-1_{name}.json.gz"
NOW = datetime.now(UTC).replace(microsecond=0)


def _role_call(event_id: str, account: str, role: str, session: str, name: str, *, read_only: bool,
               when: datetime = NOW, **extra) -> dict:
    return {"eventVersion": "1.08", "eventID": event_id, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
            "recipientAccountId": account, "readOnly": read_only,
            "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
                             "accountId": account, "sessionContext": {"sessionIssuer": {
                                 "type": "Role", "arn": f"arn:aws:iam::{account}:role/{role}", "userName": role}}},
            **extra}


def _person_call(event_id: str, account: str, user: str, name: str, *, read_only: bool) -> dict:
    return {"eventVersion": "1.08", "eventID": event_id, "eventTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
            "recipientAccountId": account, "readOnly": read_only,
            "userIdentity": {"type": "IAMUser", "userName": user, "accountId": account,
                             "arn": f"arn:aws:iam::{account}:user/{user}"}}


def _records() -> list[dict]:
    return [
        # The recorder's describes: three in payments, one in research (CloudTrail's readOnly: true)
        *[_role_call(f"rec-{i}", PAYMENTS, "GuardrailPortal", "guardrail-recorder", "DescribeInstances",
                     read_only=True) for i in range(3)],
        _role_call("rules-1", RESEARCH, "GuardrailPortal", "guardrail-rules", "GetAccountSummary", read_only=True),
        # a read without readOnly in the record: its name says it reads
        {k: v for k, v in _role_call("rec-x", PAYMENTS, "GuardrailPortal", "guardrail-recorder",
                                     "DescribeSecurityGroups", read_only=True).items() if k != "readOnly"},
        # a read the kit did not allow: stored, it says what to fix
        _role_call("rec-denied", PAYMENTS, "GuardrailPortal", "guardrail-recorder", "DescribeFlowLogs",
                   read_only=True, errorCode="Client.UnauthorizedOperation"),
        # an everyday "not found" of the recorder: a read like the others
        _role_call("rec-notags", PAYMENTS, "GuardrailPortal", "guardrail-recorder", "GetBucketTagging",
                   read_only=True, errorCode="NoSuchTagSet"),
        # the portal's writes: remediation and a launch
        _role_call("fix-1", PAYMENTS, "GuardrailRemediation", "guardrail-remediation", "RevokeSecurityGroupIngress",
                   read_only=False, requestParameters={"groupId": "sg-fixed"}),
        _role_call("launch-1", PAYMENTS, "GuardrailLaunch", "guardrail-launch-7", "RunInstances", read_only=False),
        # someone else's role with a session named like the portal's: not Guardrail's
        _role_call("impostor-1", PAYMENTS, "Admin", "guardrail-recorder", "DescribeInstances", read_only=True),
        # people
        _person_call("daisy-read", PAYMENTS, "daisy", "DescribeInstances", read_only=True),
        _person_call("daisy-write", PAYMENTS, "daisy", "TerminateInstances", read_only=False),
        _person_call("dan-write", RESEARCH, "dan", "TerminateInstances", read_only=False),
    ]


STORED = {"rec-denied", "fix-1", "launch-1", "impostor-1", "daisy-read", "daisy-write", "dan-write"}
MARKED = {"rec-denied", "fix-1", "launch-1"}


def _ingest(name: str = "a") -> LogFile:
    body = gzip.compress(json.dumps({"Records": _records()}).encode())
    log_file = logfile_claim(bucket="guardrail-cloudtrail-111111111111", key=KEY.format(day=NOW, name=name))
    return logfile_ingest(log_file=log_file, stream=io.BytesIO(body))


def _counts() -> dict[tuple[str, str], int]:
    return {(c.account_id, c.day.isoformat()): c.count for c in PortalCallCount.objects.all()}


@pytest.fixture
def ingested(people):
    return _ingest()


def test_a_file_stores_peoples_calls_and_the_portals_writes_and_counts_its_reads(ingested):
    assert ingested.status == LogFileStatus.DONE and ingested.records == len(STORED) and ingested.portal_reads == 6
    assert set(CloudTrailEvent.objects.values_list("event_id", flat=True)) == STORED
    assert set(CloudTrailEvent.objects.filter(by_portal=True).values_list("event_id", flat=True)) == MARKED
    day = NOW.date().isoformat()
    assert _counts() == {(PAYMENTS, day): 5, (RESEARCH, day): 1}
    assert CloudTrailEvent.objects.get(event_id="fix-1").resources.get().resource_id == "sg-fixed"


def test_a_file_read_again_is_counted_once(ingested):
    before = _counts()
    LogFile.objects.filter(pk=ingested.pk).update(status=LogFileStatus.PENDING)  # redelivered, or its worker died
    again = _ingest()
    assert again.pk == ingested.pk and again.status == LogFileStatus.DONE and again.records == 0
    assert _counts() == before
    # Another file with more of the portal's reads adds to the same day's count.
    second = _ingest("b")
    assert second.portal_reads == 6 and _counts()[PAYMENTS, NOW.date().isoformat()] == 10


def test_counts_are_per_day(people):
    yesterday = NOW - timedelta(days=1)
    records_ingest([_role_call("old", PAYMENTS, "GuardrailPortal", "guardrail-portal", "ListBuckets",
                               read_only=True, when=yesterday),
                    _role_call("new", PAYMENTS, "GuardrailPortal", "guardrail-portal", "ListBuckets", read_only=True)])
    assert _counts() == {(PAYMENTS, yesterday.date().isoformat()): 1, (PAYMENTS, NOW.date().isoformat()): 1}
    assert not CloudTrailEvent.objects.exists()


def test_the_setting_keeps_the_portals_reads(people, settings):
    settings.CLOUDTRAIL_KEEP_PORTAL_READS = True
    log_file = _ingest()
    stored = set(CloudTrailEvent.objects.values_list("event_id", flat=True))
    assert stored == STORED | {"rec-0", "rec-1", "rec-2", "rules-1", "rec-x", "rec-notags"}
    assert set(CloudTrailEvent.objects.filter(by_portal=True).values_list("event_id", flat=True)) == (
        MARKED | {"rec-0", "rec-1", "rec-2", "rules-1", "rec-x", "rec-notags"})
    assert log_file.portal_reads == 0 and _counts() == {}


def test_lookup_events_windows_read_again_count_each_read_once(people, monkeypatch):
    """LookupEvents accounts: the poll reads again from a while before where the last read ended, and the portal's
    reads are not stored, so they come back in the next window: counted the first time only."""
    from portal import aws
    from portal.models import Account

    Account.objects.filter(account_id=RESEARCH).update(cloudtrail_source="LOOKUP_EVENTS", allowed_regions=["us-east-1"])
    window = [_person_call("dan-1", RESEARCH, "dan", "TerminateInstances", read_only=False)]
    window[0]["eventTime"] = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window += [_role_call(f"r-{i}", RESEARCH, "GuardrailPortal", "guardrail-recorder", "DescribeVpcs", read_only=True,
                          when=NOW - timedelta(minutes=4 - i)) for i in range(3)]
    monkeypatch.setattr(aws, "client", lambda *args, **kwargs: None)
    monkeypatch.setattr(services, "lookup_regions", lambda account: ["us-east-1"])
    monkeypatch.setattr(services, "lookup_records", lambda **kwargs: iter(window))
    assert lookup_poll() == 1
    assert _counts() == {(RESEARCH, NOW.date().isoformat()): 3}
    window.append(_role_call("r-late", RESEARCH, "GuardrailPortal", "guardrail-recorder", "DescribeVpcs",
                             read_only=True, when=NOW))
    assert lookup_poll() == 0  # the same window, one read more
    assert _counts() == {(RESEARCH, NOW.date().isoformat()): 4}


# --- the history: hidden by default, shown with the filter; the three users ---

@pytest.mark.parametrize(("user", "default", "with_portal"), [
    ("admin", {"impostor-1", "daisy-read", "daisy-write", "dan-write"}, STORED),
    ("auditor", {"impostor-1", "daisy-read", "daisy-write", "dan-write"}, STORED),
    ("daisy", {"impostor-1", "daisy-read", "daisy-write"}, STORED - {"dan-write"}),
    ("dan", {"dan-write"}, {"dan-write"}),
])
def test_the_api_hides_the_portals_calls_unless_asked(client, people, ingested, user, default, with_portal):
    client.force_login(getattr(people, user))
    listed = client.get("/api/events/?page_size=100").json()["results"]
    assert {e["event_id"] for e in listed} == default
    assert not any(e["by_portal"] for e in listed)
    listed = client.get("/api/events/?include_portal=true&page_size=100").json()["results"]
    assert {e["event_id"] for e in listed} == with_portal
    assert {e["event_id"] for e in listed if e["by_portal"]} == MARKED & with_portal
    assert all(e["portal"] == e["by_portal"] for e in listed)  # CONTRACT.md's name for it
    assert {e["event_id"] for e in client.get("/api/events/?include_portal=false").json()["results"]} == default
    assert {e["event_id"] for e in client.get("/api/events/?include_portal=1&page_size=100").json()["results"]
            } == with_portal


def test_a_bad_include_portal_is_a_clear_error(client, people, ingested):
    client.force_login(people.auditor)
    answer = client.get("/api/events/?include_portal=maybe")
    assert answer.status_code == 400 and "include_portal" in answer.content.decode()
    page = client.get("/audit/events/?include_portal=maybe")
    assert page.status_code == 200 and "include_portal: give true or false" in page.content.decode()


@pytest.mark.parametrize(("user", "reads", "sees_fix"), [
    ("admin", 6, True), ("auditor", 6, True), ("daisy", 5, True), ("dan", 1, False)])
def test_the_history_page_shows_the_count_and_the_portals_calls_with_their_badge(client, people, ingested, user,
                                                                               reads, sees_fix):
    client.force_login(getattr(people, user))
    page = client.get("/audit/events/").content.decode()
    assert f"Guardrail's own read-only calls today: {reads} (not stored)" in page
    assert "RevokeSecurityGroupIngress" not in page and 'name="include_portal"' in page
    page = client.get("/audit/events/?include_portal=true").content.decode()
    assert ("RevokeSecurityGroupIngress" in page) is sees_fix
    assert ('title="A call by Guardrail\'s own roles">Guardrail</span>' in page) is sees_fix
    assert (client.get("/audit/events/fix-1/").status_code == 200) is sees_fix


def test_session_names_in_production_code_are_all_listed():
    """Every role session the portal's code names is one audit.portal_calls recognises: a new one not listed would
    make the portal's calls look like people's."""
    root = Path(__file__).resolve().parents[2]
    # keyword arguments (session_name="…", session_name=f"…{…}") and portal/aws.py's default (session_name: str = "…")
    pattern = re.compile(r"""session_name(?::\s*str\s*=\s*|=)f?["']([^"'{]*)""")
    found = {}
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "node_modules/")) or "/tests/" in relative or relative.startswith("tests/"):
            continue
        for name in pattern.findall(path.read_text(encoding="utf-8", errors="replace")):
            found[name] = relative
    assert {"guardrail-portal", "guardrail-recorder", "guardrail-launch-"} <= set(found), found
    assert {name: where for name, where in found.items() if not is_session_name(name)} == {}
    assert all(prefix.startswith("guardrail-") for prefix in SESSION_PREFIXES)


def test_the_sandboxs_own_trail_counts_the_recorders_describes_and_keeps_daisys_calls(people, sandbox):
    """End to end: the recorder's scan through the portal's role, the sandbox's trail, S3, SQS and the worker."""
    from audit.recorder import account_scan
    from audit.tasks import cloudtrail_poll
    from portal.models import Account
    from sandbox.bootstrap import bootstrap_from_portal
    from sandbox.testing import as_person

    bootstrap_from_portal()
    sandbox.flush()
    while cloudtrail_poll():
        pass
    before = sum(PortalCallCount.objects.filter(account_id=PAYMENTS).values_list("count", flat=True))
    calls = account_scan(account=Account.objects.get(account_id=PAYMENTS))["totals"]["api_calls"]
    as_person("daisy")("ec2").describe_instances()
    sandbox.flush()
    while cloudtrail_poll():
        pass
    counted = sum(PortalCallCount.objects.filter(account_id=PAYMENTS).values_list("count", flat=True)) - before
    assert counted >= calls > 0  # every describe of the scan (and the role assumed for it) counted
    assert not CloudTrailEvent.objects.filter(user_name="guardrail-recorder", read_only=True).exists()
    assert CloudTrailEvent.objects.filter(user_name="daisy", event_name="DescribeInstances", by_portal=False).exists()


@pytest.mark.parametrize(("user", "expected"), [
    ("admin", {(PAYMENTS, 5), (RESEARCH, 1)}), ("auditor", {(PAYMENTS, 5), (RESEARCH, 1)}),
    ("daisy", {(PAYMENTS, 5)}), ("dan", {(RESEARCH, 1)})])
def test_the_api_gives_the_counts_per_account_and_day(client, people, ingested, user, expected):
    client.force_login(getattr(people, user))
    day = NOW.date().isoformat()
    rows = client.get(f"/api/events/portal-reads/?since={day}&until={day}").json()["results"]
    assert {(r["account_id"], r["count"]) for r in rows} == expected and {r["day"] for r in rows} == {day}
    assert client.get("/api/events/portal-reads/?until=2000-01-01").json()["results"] == []
    assert client.get(f"/api/events/portal-reads/?account_id={PAYMENTS}").json()["count"] == (
        1 if (PAYMENTS, 5) in expected else 0)
    for bad in ("since=yesterday", "until=2026-02-30"):
        answer = client.get(f"/api/events/portal-reads/?{bad}")
        assert answer.status_code == 400 and bad.split("=")[0] in answer.content.decode()


def test_the_purge_drops_old_counts(people):
    from audit.services import events_purge

    records_ingest([_role_call("old", PAYMENTS, "GuardrailPortal", "guardrail-portal", "ListBuckets",
                               read_only=True, when=NOW - timedelta(days=400)),
                    _role_call("new", PAYMENTS, "GuardrailPortal", "guardrail-portal", "ListBuckets", read_only=True)])
    events_purge(older_than=NOW - timedelta(days=365))
    assert _counts() == {(PAYMENTS, NOW.date().isoformat()): 1}


def test_the_portals_own_principal_is_the_portal_when_set(people, settings):
    """Calls the portal makes as itself (its AssumeRole calls, the management account's reads): by its principal."""
    principal = "arn:aws:iam::123456789012:user/guardrail-portal"
    assume = {**_person_call("assume-1", "123456789012", "guardrail-portal", "AssumeRole", read_only=True),
              "eventSource": "sts.amazonaws.com"}
    assume["userIdentity"]["arn"] = principal
    write = {**assume, "eventID": "tag-1", "eventName": "TagResource", "readOnly": False}
    settings.AWS_PORTAL_PRINCIPAL_ARN = ""
    records_ingest([assume])
    assert CloudTrailEvent.objects.get(event_id="assume-1").by_portal is False  # unknown: a caller like any other
    settings.AWS_PORTAL_PRINCIPAL_ARN = principal
    records_ingest([{**assume, "eventID": "assume-2"}, write])
    assert not CloudTrailEvent.objects.filter(event_id="assume-2").exists()
    assert CloudTrailEvent.objects.get(event_id="tag-1").by_portal is True
    assert _counts() == {("123456789012", NOW.date().isoformat()): 1}
