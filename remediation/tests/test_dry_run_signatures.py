"""Signatures in a dry run: stored ones (whatever their status) and drafts replayed over the stored events, with
no policy; the report's signature part in the API and on the page; who may ask for one."""

import json

import pytest
from django.urls import reverse

from remediation import dryrun
from triage import services
from triage.tests.test_signature_replay import ACCOUNT, NAME, stored  # noqa: F401  (the stored events and real alerts)

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)

THRESHOLD = {"threshold": {"count": 3, "minutes": 10, "by": "identity"}}


def _ask(window, user, **signatures):
    since, until = window
    created = dryrun.dry_run_create(since=since, until=until, user=user, **signatures)
    created.refresh_from_db()
    assert created.status == "SUCCEEDED", created.error
    return created


def test_a_draft_replaces_the_stored_signature_in_a_dry_run_of_no_policy(stored, people):  # noqa: F811
    dry_run = _ask(stored, people.admin, signature_names=[NAME],
                   signature_drafts=[{"name": NAME, "conditions": THRESHOLD}])
    assert [(s["name"], s["draft"], s["base_version"]) for s in dry_run.signatures] == [(NAME, True, 1)]
    assert not dry_run.snapshot and not dry_run.policies.exists()
    [row] = dry_run.report["signatures"]
    assert (row["hits"], row["alerts"], row["actual"]["alerts"]) == (8, 1, 2)
    assert row["comparison"] == {"same": 1, "only_in_dry_run": 0, "only_actual": 1}
    assert dry_run.report["actions"] == [] and dry_run.report["policies"] == []
    assert dry_run.progress["signature_events"] >= 8


def test_an_off_signature_can_be_dry_run(stored, people):  # noqa: F811
    services.signature_save(name="recorder-watch", title="Recorder stopped", status="OFF", user=people.admin,
                            pattern={"detail": {"eventName": ["StopConfigurationRecorder"]}})
    [row] = _ask(stored, people.admin, signature_names=["recorder-watch"]).report["signatures"]
    assert (row["hits"], row["alerts"], row["status"], row["draft"]) == (8, 3, "OFF", False)
    assert row["actual"]["hits"] == 0 and row["actual"]["status"] == "OFF"
    # Compared by fingerprint: Daisy's two would-be alerts are one fingerprint, Dan's the other.
    assert row["comparison"] == {"same": 0, "only_in_dry_run": 2, "only_actual": 0}


def test_api_signature_dry_runs_ask_read_and_refuse_bad_input(client, stored, people):  # noqa: F811
    since, until = stored
    body = {"signatures": [NAME], "since": since.isoformat(), "until": until.isoformat()}
    for person in (people.daisy, people.auditor):
        client.force_login(person)
        assert client.post("/api/dry-runs/", body, content_type="application/json").status_code == 403
    client.force_login(people.admin)
    created = client.post("/api/dry-runs/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    url = f"/api/dry-runs/{created.json()['id']}/"
    got = client.get(url).json()
    assert got["status"] == "SUCCEEDED" and got["policies"] == [] and got["signature_names"] == [NAME]
    [row] = got["signatures"]
    assert (row["name"], row["hits"], row["alerts"], row["actual"]["alerts"]) == (NAME, 8, 3, 2)
    assert len(row["examples"]) == 3 and {"fingerprint", "first_seen", "event_ids"} <= set(row["examples"][0])
    # A developer reads the counts, and the example alerts on their teams' accounts only.
    client.force_login(people.dan)
    assert client.get(url).json()["signatures"][0]["examples"] == []
    client.force_login(people.daisy)
    assert {e["account_id"] for e in client.get(url).json()["signatures"][0]["examples"]} == {ACCOUNT}
    client.force_login(people.admin)
    draft = {"name": "new-one", "title": "New", "pattern": {"detail": {"eventName": "StopLogging"}}}
    bad = [({**body, "signatures": ["no-such-signature"]}, "signatures", "no-such-signature"),
           ({**body, "signature_drafts": [draft]}, "signature_drafts", "Draft 1 (new-one): pattern:"),
           ({**body, "signature_drafts": [{**draft, "pattern": {"detail": {}}, "colour": "red"}]},
            "signature_drafts", "colour"),
           ({**body, "signature_drafts": ["not an object"]}, "signature_drafts", ""),
           ({"since": body["since"]}, "signatures", "at least one policy or one signature"),
           ({**body, "signatures": [], "policies": []}, "policies", "at least one policy or one signature")]
    for payload, field, words in bad:
        answer = client.post("/api/dry-runs/", payload, content_type="application/json")
        assert answer.status_code == 400 and words in json.dumps(answer.json()[field]), (payload, answer.content)


def test_the_form_takes_signatures_and_a_draft_and_the_report_shows_them(client, stored, people):  # noqa: F811
    url = reverse("remediation:dry-run-list")
    client.force_login(people.daisy)
    assert client.post(url, {"signatures": [NAME], "window": "24"}).status_code == 403
    client.force_login(people.admin)
    form = client.get(url).content.decode()
    assert 'name="signatures"' in form and f'value="{NAME}"' in form and 'name="signature_drafts"' in form
    bad = client.post(url, {"signatures": [NAME], "window": "24",
                            "signature_drafts": json.dumps({"name": "new-one", "title": "New", "pattern": []})})
    assert bad.status_code == 200 and "Draft 1 (new-one): pattern:" in bad.content.decode()
    neither = client.post(url, {"window": "24"})
    assert neither.status_code == 200 and "Give at least one policy or one signature." in neither.content.decode()
    asked = client.post(url, {"signatures": [NAME], "window": "24",
                              "signature_drafts": json.dumps({"name": "daisy-stops", "title": "Daisy stops it",
                                                              "pattern": {"detail": {"userIdentity": {
                                                                  "userName": ["daisy"]}}}})})
    assert asked.status_code == 302
    page = client.get(asked.url).content.decode()
    assert 'data-testid="dry-run-signatures"' in page and 'data-testid="signature-daisy-stops"' in page
    assert "<svg" in page and "<details>" in page and "daisy-late" in page and "not stored" in page
    assert 'data-testid="dry-run-actions"' not in page  # no policy, no policy sections
    partial = client.get(asked.url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="dry-run-signatures"' in partial and "<html" not in partial
