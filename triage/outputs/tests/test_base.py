from __future__ import annotations

import dataclasses

import pytest

from triage.outputs.base import (
    DEFAULT_TIMEOUT,
    OutputError,
    TicketBackend,
    TicketRef,
    check_url,
    fingerprint_label,
    redact,
)
from triage.outputs.github import GitHubBackend
from triage.outputs.jira import JiraBackend


def test_the_default_timeout_is_connect_5s_read_15s():
    assert DEFAULT_TIMEOUT == (5.0, 15.0)


def test_fingerprint_label_is_stable_short_and_label_safe():
    label = fingerprint_label("aws:s3:public-bucket:arn:aws:s3:::data")
    assert label == fingerprint_label("aws:s3:public-bucket:arn:aws:s3:::data")
    assert label.startswith("guardrail-") and len(label) == len("guardrail-") + 16
    assert all(c in "0123456789abcdef" for c in label.removeprefix("guardrail-"))
    assert fingerprint_label("other") != label
    with pytest.raises(ValueError):
        fingerprint_label("")


def test_output_error_is_one_line_and_never_shows_a_secret():
    err = OutputError(
        "jira: POST /x -> HTTP 401\nserver said: token s3cr3t/T0KEN and s3cr3t%2FT0KEN",
        system="jira",
        status=401,
        secrets=["s3cr3t/T0KEN"],
    )
    assert "\n" not in str(err)
    assert "s3cr3t" not in str(err) and "s3cr3t" not in repr(err)
    assert (err.status, err.system, err.retryable, err.retry_after) == (401, "jira", False, None)
    assert str(err).startswith("jira: POST /x -> HTTP 401 server said: token ")


def test_output_error_message_is_bounded():
    assert len(str(OutputError("x" * 5000, system="github"))) <= 500


def test_redact_ignores_empty_secrets():
    assert redact("abc", ["", "b"]) == "a***c"


def test_ticket_ref_is_frozen():
    ref = TicketRef("jira", "SEC-1", "https://x.atlassian.net/browse/SEC-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.key = "SEC-2"  # type: ignore[misc]


def test_both_backends_satisfy_the_protocol_and_hide_their_token():
    jira = JiraBackend("https://acme.atlassian.net", "a@b.c", "tok-JIRA-secret", "SEC")
    github = GitHubBackend("acme/repo", "ghp_tok_secret")
    assert isinstance(jira, TicketBackend) and isinstance(github, TicketBackend)
    assert "tok-JIRA-secret" not in repr(jira) and "ghp_tok_secret" not in repr(github)


@pytest.mark.parametrize("url", ["ftp://x", "acme.atlassian.net", "http://acme.atlassian.net", ""])
def test_urls_must_be_https_except_on_loopback(url):
    with pytest.raises(OutputError) as info:
        check_url(url, system="jira")
    assert info.value.status is None and not info.value.retryable


def test_loopback_may_use_http():
    assert check_url("http://127.0.0.1:8080", system="jira") == "http://127.0.0.1:8080"
