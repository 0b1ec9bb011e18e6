from __future__ import annotations

import base64
import socket

import pytest
import requests

from triage.outputs.base import OutputError, TicketRef, fingerprint_label
from triage.outputs.jira import JiraBackend, adf_document

from .fake_jira import FakeJira

FP = "aws:iam:root-access-key:123456789012"
LABEL = fingerprint_label(FP)
BASIC = "Basic " + base64.b64encode(f"{FakeJira.EMAIL}:{FakeJira.TOKEN}".encode()).decode()


def _create(jira, fp=FP):
    return jira.create(
        title="Root access key in use",
        body="Account 1234\nregion eu-west-1\n\nRotate it.",
        labels=["security", "aws prod"],
        fingerprint=fp,
    )


def test_create_posts_the_v3_issue_shape_with_adf_and_the_fingerprint_label(jira, jira_fake):
    ref = _create(jira)
    assert ref == TicketRef("jira", "SEC-1", f"{jira_fake.base_url}/browse/SEC-1")
    [req] = jira_fake.requests
    assert (req.method, req.path) == ("POST", "/rest/api/3/issue")
    assert req.headers["authorization"] == BASIC
    assert req.headers["accept"] == "application/json"
    assert req.headers["content-type"] == "application/json"
    assert req.json == {
        "fields": {
            "project": {"key": "SEC"},
            "summary": "Root access key in use",
            "issuetype": {"name": "Task"},
            "labels": ["security", "aws-prod", LABEL],
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {"type": "text", "text": "Account 1234"},
                            {"type": "hardBreak"},
                            {"type": "text", "text": "region eu-west-1"},
                        ],
                    },
                    {"type": "paragraph", "content": [{"type": "text", "text": "Rotate it."}]},
                ],
            },
        }
    }


def test_comment_close_and_reopen_send_exactly_the_expected_requests(jira, jira_fake):
    ref = _create(jira)
    jira.comment(ref, "seen again")
    jira.close(ref, comment="resolved")
    assert jira.state(ref) == "closed"
    jira.reopen(ref, comment="back again")
    assert jira.state(ref) == "open"
    calls = [(r.method, r.path, r.json) for r in jira_fake.requests[1:]]

    def adf(text):
        return {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
        }

    assert calls == [
        ("POST", "/rest/api/3/issue/SEC-1/comment", {"body": adf("seen again")}),
        ("POST", "/rest/api/3/issue/SEC-1/comment", {"body": adf("resolved")}),
        ("GET", "/rest/api/3/issue/SEC-1/transitions", None),
        ("POST", "/rest/api/3/issue/SEC-1/transitions", {"transition": {"id": "31"}}),
        ("GET", "/rest/api/3/issue/SEC-1", None),
        ("GET", "/rest/api/3/issue/SEC-1/transitions", None),
        ("POST", "/rest/api/3/issue/SEC-1/transitions", {"transition": {"id": "11"}}),
        ("POST", "/rest/api/3/issue/SEC-1/comment", {"body": adf("back again")}),
        ("GET", "/rest/api/3/issue/SEC-1", None),
    ]
    assert jira_fake.sent("GET", "/rest/api/3/issue/SEC-1")[0].query == {"fields": ["status"]}
    assert jira_fake.issues["SEC-1"]["history"] == ["comment", "comment", "status:Done", "status:To Do", "comment"]
    assert all(r.headers["authorization"] == BASIC for r in jira_fake.requests)


def test_find_uses_the_enhanced_jql_search(jira, jira_fake):
    ref = _create(jira)
    _create(jira, fp="another")
    assert jira.find(FP) == ref
    assert jira.find("never-seen") is None
    search = jira_fake.sent("POST", "/rest/api/3/search/jql")[0]
    assert search.json == {
        "jql": f'project = "SEC" AND labels = "{LABEL}" ORDER BY created DESC',
        "fields": ["status", "summary", "labels"],
        "maxResults": 10,
    }


def test_find_prefers_an_open_duplicate(jira, jira_fake):
    first = _create(jira)
    second = _create(jira)
    jira.close(second)
    assert jira.find(FP) == first


def test_a_missing_transition_name_lists_the_available_ones(jira_fake):
    backend = JiraBackend(jira_fake.base_url, FakeJira.EMAIL, FakeJira.TOKEN, "SEC", done_transition="Resolve")
    ref = _create(backend)
    with pytest.raises(OutputError) as info:
        backend.close(ref)
    err = info.value
    assert (err.status, err.retryable, err.system) == (None, False, "jira")
    assert "'Resolve'" in str(err) and "SEC-1" in str(err)
    assert "available transitions: 'Start progress', 'Done'" in str(err)
    assert jira_fake.sent("POST", "/rest/api/3/issue/SEC-1/transitions") == []


def test_transitions_match_by_target_status_when_names_differ(jira, jira_fake):
    jira_fake.transitions = [
        ("11", "Reopen issue", "To Do"),
        ("21", "Start", "In Progress"),
        ("31", "Close issue", "Done"),
    ]
    ref = _create(jira)
    jira.close(ref)
    assert jira.state(ref) == "closed"
    jira.reopen(ref)
    assert jira.state(ref) == "open"


def test_401_is_clear_not_retryable_and_never_shows_the_token(jira_fake):
    jira_fake.echo_auth_on_401 = True  # even a server echoing the credentials must not leak them
    backend = JiraBackend(jira_fake.base_url, FakeJira.EMAIL, "wrong-" + FakeJira.TOKEN, "SEC")
    with pytest.raises(OutputError) as info:
        _create(backend)
    err, text = info.value, str(info.value) + repr(info.value)
    assert (err.status, err.retryable) == (401, False)
    assert "authentication failed" in str(err) and "HTTP 401" in str(err)
    assert "wrong-" + FakeJira.TOKEN not in text and "Received: Basic ***" in text
    assert base64.b64encode(f"{FakeJira.EMAIL}:wrong-{FakeJira.TOKEN}".encode()).decode() not in text
    assert "\n" not in str(err)


@pytest.mark.parametrize(
    "status,retryable", [(500, True), (502, True), (503, True), (429, True), (400, False), (403, False)]
)
def test_status_codes_map_to_retryable(jira, jira_fake, status, retryable):
    jira_fake.fail_next(
        status, {"errorMessages": ["boom"], "errors": {}}, {"Retry-After": "7"} if status == 429 else {}
    )
    with pytest.raises(OutputError) as info:
        _create(jira)
    assert (info.value.status, info.value.retryable) == (status, retryable)
    assert "boom" in str(info.value)
    if status == 429:
        assert info.value.retry_after == 7.0


def test_business_errors_are_reported_with_jiras_message(jira_fake):
    backend = JiraBackend(jira_fake.base_url, FakeJira.EMAIL, FakeJira.TOKEN, "SEC", issue_type="Epic-ish")
    with pytest.raises(OutputError) as info:
        _create(backend)
    assert info.value.status == 400 and not info.value.retryable
    assert "issuetype: Specify a valid issue type" in str(info.value)
    with pytest.raises(OutputError) as info:
        backend.comment(TicketRef("jira", "SEC-99", "x"), "hello")
    assert info.value.status == 404 and "Issue does not exist" in str(info.value)


def test_a_slow_server_is_a_retryable_timeout(jira_fake):
    backend = JiraBackend(jira_fake.base_url, FakeJira.EMAIL, FakeJira.TOKEN, "SEC", timeout=(5, 0.3))
    jira_fake.delay = 1.0
    with pytest.raises(OutputError) as info:
        backend.find(FP)
    assert (info.value.status, info.value.retryable) == (None, True)
    assert "timed out" in str(info.value) and "read 0.3s" in str(info.value)


def test_a_refused_connection_is_retryable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = JiraBackend(f"http://127.0.0.1:{port}", "a@b.c", "tok-secret", "SEC")
    with pytest.raises(OutputError) as info:
        backend.find(FP)
    assert info.value.retryable and info.value.status is None
    assert info.value.__cause__ is None and "tok-secret" not in str(info.value)


class RecordingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.timeouts = []

    def request(self, method, url, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, **kwargs)


def test_every_request_carries_the_5s_15s_timeout(jira_fake):
    session = RecordingSession()
    backend = JiraBackend(jira_fake.base_url, FakeJira.EMAIL, FakeJira.TOKEN, "SEC", session=session)
    ref = _create(backend)
    backend.comment(ref, "x")
    backend.close(ref, comment="y")
    backend.reopen(ref, comment="z")
    backend.state(ref)
    backend.find(FP)
    assert len(session.timeouts) == len(jira_fake.requests) == 10
    assert set(session.timeouts) == {(5.0, 15.0)}


def test_a_non_json_success_answer_is_an_error(jira, jira_fake):
    jira_fake.fail_next(200, "<html>proxy login</html>")
    with pytest.raises(OutputError) as info:
        jira.state(TicketRef("jira", "SEC-1", "x"))
    assert "non-JSON" in str(info.value) and not info.value.retryable


def test_long_titles_and_bodies_are_made_to_fit(jira, jira_fake):
    jira.create(title="a\nb " + "t" * 400, body="x" * 40_000, labels=[], fingerprint=FP)
    fields = jira_fake.requests[0].json["fields"]
    assert "\n" not in fields["summary"] and len(fields["summary"]) <= 255
    text = fields["description"]["content"][0]["content"][0]["text"]
    assert len(text) < 32_767


def test_adf_of_an_empty_body_is_still_a_valid_document():
    assert adf_document("") == {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": []}]}
    assert adf_document("a\r\n\r\n\r\nb")["content"] == [
        {"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "b"}]},
    ]
