from __future__ import annotations

import pytest

from triage.outputs.base import OutputError, TicketRef, fingerprint_label
from triage.outputs.github import GitHubBackend, fingerprint_marker

from .fake_github import FakeGitHub

FP = "aws:s3:public-bucket:customer-data"
LABEL = fingerprint_label(FP)
MARKER = f"<!-- guardrail-fingerprint: {LABEL} -->"
ISSUES = f"/repos/{FakeGitHub.REPO}/issues"


def _create(github, fp=FP):
    return github.create(
        title="Public bucket", body="Bucket customer-data is public.", labels=["security", "guardrail"], fingerprint=fp
    )


def test_create_posts_title_body_with_hidden_marker_and_labels(github, github_fake):
    ref = _create(github)
    assert ref == TicketRef("github", "1", f"https://github.com/{FakeGitHub.REPO}/issues/1")
    [req] = github_fake.requests
    assert (req.method, req.path) == ("POST", ISSUES)
    assert req.headers["authorization"] == f"Bearer {FakeGitHub.TOKEN}"
    assert req.headers["accept"] == "application/vnd.github+json"
    assert req.headers["x-github-api-version"] == "2022-11-28"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["user-agent"].startswith("guardrail-")
    assert req.json == {
        "title": "Public bucket",
        "body": f"Bucket customer-data is public.\n\n{MARKER}",
        "labels": ["security", "guardrail", LABEL],
    }
    assert fingerprint_marker(FP) == MARKER


def test_comment_close_and_reopen_send_exactly_the_expected_requests(github, github_fake):
    ref = _create(github)
    github.comment(ref, "seen again")
    github.close(ref, comment="resolved")
    assert github.state(ref) == "closed"
    github.reopen(ref, comment="back again")
    assert github.state(ref) == "open"
    assert [(r.method, r.path, r.json) for r in github_fake.requests[1:]] == [
        ("POST", f"{ISSUES}/1/comments", {"body": "seen again"}),
        ("POST", f"{ISSUES}/1/comments", {"body": "resolved"}),
        ("PATCH", f"{ISSUES}/1", {"state": "closed", "state_reason": "completed"}),
        ("GET", f"{ISSUES}/1", None),
        ("PATCH", f"{ISSUES}/1", {"state": "open", "state_reason": "reopened"}),
        ("POST", f"{ISSUES}/1/comments", {"body": "back again"}),
        ("GET", f"{ISSUES}/1", None),
    ]
    assert github_fake.history[1] == ["comment", "comment", "state:closed", "state:open", "comment"]
    assert all(r.headers["authorization"] == f"Bearer {FakeGitHub.TOKEN}" for r in github_fake.requests)


def test_find_lists_issues_by_label_and_skips_pull_requests(github, github_fake):
    github_fake.add("a PR that carries the label", MARKER, [LABEL], pr=True)
    ref = _create(github)
    _create(github, fp="other")
    assert github.find(FP) == ref
    [listing] = github_fake.sent("GET", ISSUES)
    assert listing.query == {
        "labels": [LABEL],
        "state": ["all"],
        "sort": ["created"],
        "direction": ["desc"],
        "per_page": ["20"],
    }
    assert github_fake.sent("GET", "/search/issues") == []


def test_find_sees_closed_issues_and_prefers_an_open_duplicate(github, github_fake):
    first = _create(github)
    github.close(first)
    assert github.find(FP) == first
    second = _create(github)
    assert github.find(FP) == second


def test_find_falls_back_to_the_body_marker_when_labels_were_dropped(github, github_fake):
    github_fake.drop_labels = True  # a token without push access: GitHub silently drops labels
    ref = _create(github)
    assert github_fake.issues[1]["labels"] == []
    assert github.find(FP) == ref
    search = github_fake.sent("GET", "/search/issues")[0]
    assert search.query["q"] == [f'repo:{FakeGitHub.REPO} is:issue in:body "{LABEL}"']
    assert github.find("never-seen") is None


def test_find_without_search_fallback(github_fake):
    backend = GitHubBackend(FakeGitHub.REPO, FakeGitHub.TOKEN, api_url=github_fake.base_url, search_fallback=False)
    assert backend.find(FP) is None
    assert github_fake.sent("GET", "/search/issues") == []


def test_401_is_clear_not_retryable_and_never_shows_the_token(github_fake):
    backend = GitHubBackend(FakeGitHub.REPO, "ghp_wrongTOKENvalue", api_url=github_fake.base_url)
    with pytest.raises(OutputError) as info:
        _create(backend)
    err = info.value
    assert (err.status, err.retryable, err.system) == (401, False, "github")
    assert "Bad credentials" in str(err) and "authentication failed" in str(err)
    assert "ghp_wrongTOKENvalue" not in str(err) + repr(err)


def test_a_server_echoing_the_token_is_redacted(github, github_fake):
    github_fake.fail_next(422, {"message": f"Validation Failed for Bearer {FakeGitHub.TOKEN}"})
    with pytest.raises(OutputError) as info:
        _create(github)
    assert FakeGitHub.TOKEN not in str(info.value) and "Bearer ***" in str(info.value)


@pytest.mark.parametrize(
    "status,headers,retryable",
    [
        (500, {}, True),
        (502, {}, True),
        (429, {"Retry-After": "30"}, True),
        (403, {"X-RateLimit-Remaining": "0"}, True),
        (403, {"Retry-After": "60"}, True),
        (403, {}, False),
        (404, {}, False),
        (422, {}, False),
    ],
)
def test_status_codes_map_to_retryable(github, github_fake, status, headers, retryable):
    github_fake.fail_next(status, {"message": "nope", "documentation_url": "https://docs.github.com/rest"}, headers)
    with pytest.raises(OutputError) as info:
        github.comment(TicketRef("github", "1", "x"), "hello")
    assert (info.value.status, info.value.retryable) == (status, retryable)
    assert "nope" in str(info.value)


def test_unknown_issue_is_a_404(github):
    with pytest.raises(OutputError) as info:
        github.state(TicketRef("github", "77", "x"))
    assert info.value.status == 404 and not info.value.retryable


def test_a_slow_server_is_a_retryable_timeout(github_fake):
    backend = GitHubBackend(FakeGitHub.REPO, FakeGitHub.TOKEN, api_url=github_fake.base_url, timeout=(5, 0.3))
    github_fake.delay = 1.0
    with pytest.raises(OutputError) as info:
        _create(backend)
    assert (info.value.status, info.value.retryable) == (None, True)
    assert "timed out" in str(info.value)


@pytest.mark.parametrize("repo", ["acme", "acme/", "/repo", "a/b/c", "acme repo/x"])
def test_repo_must_be_owner_slash_name(repo):
    with pytest.raises(OutputError):
        GitHubBackend(repo, "tok")


def test_a_non_numeric_issue_key_is_refused_before_any_request(github, github_fake):
    with pytest.raises(OutputError):
        github.comment(TicketRef("github", "../../x", "x"), "hi")
    assert github_fake.requests == []
