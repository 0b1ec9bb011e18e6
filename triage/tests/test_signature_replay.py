"""Signatures replayed over stored events (triage.signature_replay): hits, the threshold counted in memory, would-be
alerts deduplicated by fingerprint, and what the stored signature really did in the window."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.services import records_ingest
from triage.builtin_signatures import builtin_seed
from triage.models import Alert, Signature
from triage.signature_replay import draft_snapshot, signature_snapshot, signatures_replay

pytestmark = pytest.mark.usefixtures("commit_now")  # the live matching runs at once (tasks are eager)

ACCOUNT = "111111111111"
NAME = "config-recorder-stopped"


def stop(event_id: str, when, user: str = "daisy", recorder: str = "default") -> dict:
    """A StopConfigurationRecorder record, as CloudTrail writes it."""
    return {"eventID": event_id, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventVersion": "1.08",
            "eventSource": "config.amazonaws.com", "eventName": "StopConfigurationRecorder", "eventType": "AwsApiCall",
            "recipientAccountId": ACCOUNT, "awsRegion": "us-east-1", "readOnly": False,
            "requestParameters": {"configurationRecorderName": recorder},
            "userIdentity": {"type": "IAMUser", "userName": user, "accountId": ACCOUNT,
                             "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}"}}


@pytest.fixture
def stored(people):
    """The built-ins (active); Daisy stops the recorder five times in five minutes, Dan twice, and Daisy once
    more an hour and a half later; the live matching raises the real alerts. Returns the window."""
    builtin_seed()
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(hours=3)
    records = [stop(f"daisy-{i}", start + timedelta(minutes=30 + i)) for i in range(5)]
    records += [stop(f"dan-{i}", start + timedelta(minutes=40 + i), user="dan") for i in range(2)]
    records.append(stop("daisy-late", start + timedelta(minutes=125)))
    assert records_ingest(records)["stored"] == 8
    return start, now


def _one(snapshot: dict, window) -> dict:
    since, until = window
    [row] = signatures_replay([snapshot], since=since, until=until)
    return row


def test_the_stored_version_replayed_finds_what_it_did(stored):
    row = _one(signature_snapshot(Signature.objects.get(name=NAME)), stored)
    assert (row["hits"], row["draft"], row["version"], row["severity"]) == (8, False, 1, "HIGH")
    # Daisy's five stops are one alert; her sixth, past the 60 dedup minutes, a second; Dan's two, a third.
    counts = sorted((a["identity"], a["count"]) for a in row["examples"])
    assert counts == [("daisy", 1), ("daisy", 5), ("dan", 2)] and row["alerts"] == 3
    daisy = next(a for a in row["examples"] if a["count"] == 5)
    assert daisy["event_ids"] == [f"daisy-{i}" for i in range(5)]
    assert (daisy["resource_id"], daisy["account_id"]) == ("default", ACCOUNT)
    assert daisy["title"] == "AWS Config recording stopped or deleted: StopConfigurationRecorder by daisy"
    live = Alert.objects.get(signature__name=NAME, identity="daisy")
    assert daisy["fingerprint"] == live.fingerprint and live.count == 6  # live, the open alert took the sixth
    assert row["actual"] == {"stored": True, "status": "ACTIVE", "version": 1, "versions": [1], "hits": 8,
                             "alerts": 2}
    assert row["comparison"] == {"same": 2, "only_in_dry_run": 0, "only_actual": 0}
    assert row["chart"]["unit"] == "hour" and sum(b["hits"] for b in row["chart"]["buckets"]) == 8
    assert sum(b["alerts"] for b in row["chart"]["buckets"]) == 3


def test_a_draft_with_a_threshold_alerts_only_past_the_count(stored):
    draft = draft_snapshot({"name": NAME, "conditions": {"threshold": {"count": 3, "minutes": 10, "by": "identity"}}})
    assert draft["draft"] and draft["base_version"] == 1 and draft["title"].startswith("AWS Config")
    row = _one(draft, stored)
    assert row["hits"] == 8 and row["alerts"] == 1  # Dan's two and Daisy's late one stay below the count
    [alert] = row["examples"]
    assert (alert["identity"], alert["count"], alert["event_ids"]) == ("daisy", 3, ["daisy-2", "daisy-3", "daisy-4"])
    assert row["comparison"] == {"same": 1, "only_in_dry_run": 0, "only_actual": 1}  # Dan's real alert


def test_a_new_signature_has_nothing_actual(stored):
    draft = draft_snapshot({"name": "recorder-stopped-by-dan", "title": "Dan stops the recorder",
                            "pattern": {"detail": {"eventName": ["StopConfigurationRecorder"],
                                                   "userIdentity": {"userName": ["dan"]}}}})
    row = _one(draft, stored)
    assert (row["hits"], row["alerts"], row["base_version"]) == (2, 1, None)
    assert row["actual"]["stored"] is False
    assert row["comparison"] == {"same": 0, "only_in_dry_run": 1, "only_actual": 0}


def test_progress_is_told_and_a_long_window_is_charted_by_day(stored):
    since, until = stored
    told = []
    [row] = signatures_replay([signature_snapshot(Signature.objects.get(name=NAME))], since=since - timedelta(days=3),
                              until=until, progress=told.append)
    assert told[-1] >= 8 and row["chart"]["unit"] == "day" and sum(b["hits"] for b in row["chart"]["buckets"]) == 8


@pytest.mark.parametrize("changes, message", [
    ({"pattern": {"detail": {"eventName": "StopLogging"}}}, "signature broken: pattern"),
    ({"conditions": {"threshold": {"count": 0, "minutes": 5}}}, "signature broken: conditions.threshold"),
])
def test_a_snapshot_that_does_not_compile_is_named(changes, message):
    snapshot = {"name": "broken", "title": "Broken", "pattern": {"detail": {"eventName": ["StopLogging"]}},
                "conditions": {}, "severity": "LOW", "dedup_minutes": 60, "version": None, "status": "OFF",
                "draft": True, **changes}
    now = timezone.now()
    with pytest.raises(ValueError, match=message):
        signatures_replay([snapshot], since=now - timedelta(hours=1), until=now)


def test_a_bad_draft_names_its_field(db):
    with pytest.raises(ValidationError) as caught:
        draft_snapshot({"name": "new-one", "title": "New", "pattern": {"detail": "x"}, "severity": "URGENT"})
    assert set(caught.value.message_dict) == {"pattern", "severity"}
    with pytest.raises(ValidationError, match="Not a signature field"):
        draft_snapshot({"name": "new-one", "version": 3})
