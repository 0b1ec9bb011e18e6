"""Fixtures: a fresh contract server per test for Jira, GitHub and the webhook,
and backends pointed at them. A test fails if its fake saw a contract violation."""

from __future__ import annotations

import pytest

from triage.outputs.github import GitHubBackend
from triage.outputs.jira import JiraBackend

from .fake_github import FakeGitHub, FakeWebhook
from .fake_http import serve
from .fake_jira import FakeJira


def _checked(fake):
    with serve(fake):
        yield fake
    assert fake.violations == [], "the client broke the API contract"


@pytest.fixture
def jira_fake():
    yield from _checked(FakeJira())


@pytest.fixture
def github_fake():
    yield from _checked(FakeGitHub())


@pytest.fixture
def webhook_fake():
    yield from _checked(FakeWebhook())


@pytest.fixture
def jira(jira_fake):
    return JiraBackend(jira_fake.base_url, FakeJira.EMAIL, FakeJira.TOKEN, FakeJira.PROJECT)


@pytest.fixture
def github(github_fake):
    return GitHubBackend(FakeGitHub.REPO, FakeGitHub.TOKEN, api_url=github_fake.base_url)


@pytest.fixture(params=["jira", "github"])
def ticketing(request):
    """(backend, fake) for each ticket system, for the shared lifecycle tests."""
    fake = request.getfixturevalue(f"{request.param}_fake")
    return request.getfixturevalue(request.param), fake
