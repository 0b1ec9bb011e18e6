from __future__ import annotations

import time

import pytest

from triage.outputs.base import OutputError, TicketRef
from triage.outputs.lifecycle import apply_step, sync_ticket, ticket_step

FP = "aws:ec2:open-ssh:sg-0123"
ARGS = {"title": "SSH open to the world", "labels": ["security"], "fingerprint": FP}


@pytest.mark.parametrize(
    "current,event,step",
    [
        ("none", "hit", "create"),
        ("open", "hit", "comment"),
        ("closed", "hit", "reopen"),
        ("open", "resolved", "close"),
        ("none", "resolved", "nothing"),
        ("closed", "resolved", "nothing"),
    ],
)
def test_ticket_step_table(current, event, step):
    assert ticket_step(current, event) == step


def test_ticket_step_refuses_unknown_values():
    with pytest.raises(ValueError):
        ticket_step("open", "exploded")  # type: ignore[arg-type]


class StubBackend:
    system = "stub"

    def __init__(self):
        self.calls = []

    def create(self, *, title, body, labels, fingerprint):
        self.calls.append(("create", title, body, tuple(labels), fingerprint))
        return TicketRef("stub", "1", "u")

    def comment(self, ref, body):
        self.calls.append(("comment", ref.key, body))

    def close(self, ref, *, comment=None):
        self.calls.append(("close", ref.key, comment))

    def reopen(self, ref, *, comment=None):
        self.calls.append(("reopen", ref.key, comment))

    def state(self, ref):
        return "open"

    def find(self, fingerprint):
        return None


@pytest.mark.parametrize(
    "step,call",
    [
        ("comment", ("comment", "1", "b")),
        ("reopen", ("reopen", "1", "b")),
        ("close", ("close", "1", "b")),
    ],
)
def test_apply_step_on_an_existing_ticket(step, call):
    backend, ref = StubBackend(), TicketRef("stub", "1", "u")
    assert apply_step(backend, ref, step, body="b", **ARGS) == ref
    assert backend.calls == [call]


def test_apply_step_create_and_nothing():
    backend = StubBackend()
    assert apply_step(backend, None, "create", body="b", **ARGS) == TicketRef("stub", "1", "u")
    assert apply_step(backend, None, "nothing", body="b", **ARGS) is None
    assert backend.calls == [("create", ARGS["title"], "b", ("security",), FP)]


def test_apply_step_refuses_impossible_combinations():
    backend, ref = StubBackend(), TicketRef("stub", "1", "u")
    with pytest.raises(ValueError):
        apply_step(backend, ref, "create", body="b", **ARGS)
    for step in ("comment", "reopen", "close"):
        with pytest.raises(ValueError):
            apply_step(backend, None, step, body="b", **ARGS)
    assert backend.calls == []


def _comments(fake, key):
    if hasattr(fake, "comments"):  # GitHub
        return fake.comments.get(int(key), [])
    return fake.issues[key]["comments"]


def test_the_whole_lifecycle_keeps_one_ticket_per_fingerprint(ticketing):
    backend, fake = ticketing
    steps = []
    for event, body in [
        ("hit", "first"),
        ("hit", "again"),
        ("hit", "and again"),
        ("resolved", "fixed"),
        ("resolved", "still fixed"),
        ("hit", "it is back"),
        ("resolved", "fixed for good"),
    ]:
        step, ref = sync_ticket(backend, event, body=body, **ARGS)
        steps.append(step)
    assert steps == ["create", "comment", "comment", "close", "nothing", "reopen", "close"]
    assert len(fake.issues) == 1
    assert backend.find(FP) == ref and backend.state(ref) == "closed"
    assert len(_comments(fake, ref.key)) == 5  # again, and again, fixed, it is back, fixed for good
    # a second fingerprint gets its own ticket
    step, other = sync_ticket(backend, "hit", body="x", **{**ARGS, "fingerprint": "another"})
    assert step == "create" and other != ref and len(fake.issues) == 2


def test_a_known_ref_skips_the_search(ticketing):
    backend, fake = ticketing
    _, ref = sync_ticket(backend, "hit", body="first", **ARGS)
    searches = len(fake.requests)
    sync_ticket(backend, "hit", body="again", ref=ref, **ARGS)
    assert not any("search" in r.path or r.method == "GET" and r.query.get("labels") for r in fake.requests[searches:])


def test_a_retry_after_a_timed_out_create_does_not_duplicate(ticketing, monkeypatch):
    backend, fake = ticketing
    monkeypatch.setattr(backend.http, "timeout", (5, 0.2))
    fake.delay = 0.6  # the server still creates the ticket after the client gave up
    fake.delay_on = ("POST", "/rest/api/3/issue" if backend.system == "jira" else f"/repos/{backend.repo}/issues")
    with pytest.raises(OutputError) as info:
        sync_ticket(backend, "hit", body="first", **{**ARGS, "fingerprint": "slow"})
    assert info.value.retryable and "timed out" in str(info.value)
    fake.delay = 0
    monkeypatch.setattr(backend.http, "timeout", (5, 15))
    deadline = time.monotonic() + 5
    while not fake.issues and time.monotonic() < deadline:
        time.sleep(0.02)
    step, _ = sync_ticket(backend, "hit", body="retry", **{**ARGS, "fingerprint": "slow"})
    assert step == "comment" and len(fake.issues) == 1
