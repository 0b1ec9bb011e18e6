"""One ticket per alert fingerprint.

``ticket_step`` is the pure state machine; ``apply_step`` performs one step on a
backend; ``sync_ticket`` finds the fingerprint's ticket, reads its state and
applies the step (find-before-create is what keeps a retried create from
opening a duplicate).

=========  ==========  ============================
current    event       step
=========  ==========  ============================
none       hit         create
open       hit         comment
closed     hit         reopen (reopen, then comment)
open       resolved    close (comment, then close)
none       resolved    nothing
closed     resolved    nothing
=========  ==========  ============================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from .base import TicketBackend, TicketRef

Current = Literal["none", "open", "closed"]
Event = Literal["hit", "resolved"]
Step = Literal["create", "comment", "reopen", "close", "nothing"]

_STEPS: dict[tuple[str, str], Step] = {
    ("none", "hit"): "create",
    ("open", "hit"): "comment",
    ("closed", "hit"): "reopen",
    ("open", "resolved"): "close",
    ("none", "resolved"): "nothing",
    ("closed", "resolved"): "nothing",
}


def ticket_step(current: Current, event: Event) -> Step:
    try:
        return _STEPS[(current, event)]
    except KeyError:
        raise ValueError(f"unknown ticket state/event: {current!r}/{event!r}") from None


def apply_step(
    backend: TicketBackend,
    ref: TicketRef | None,
    step: Step,
    *,
    title: str,
    body: str,
    labels: Sequence[str],
    fingerprint: str,
) -> TicketRef | None:
    """Perform ``step``; returns the ticket (the new one for "create", ``ref``
    otherwise). "reopen" and "close" carry ``body`` as their comment."""
    if step == "nothing":
        return ref
    if step == "create":
        if ref is not None:
            raise ValueError("step 'create' with an existing ticket would duplicate it")
        return backend.create(title=title, body=body, labels=labels, fingerprint=fingerprint)
    if ref is None:
        raise ValueError(f"step {step!r} needs an existing ticket")
    if step == "comment":
        backend.comment(ref, body)
    elif step == "reopen":
        backend.reopen(ref, comment=body)
    elif step == "close":
        backend.close(ref, comment=body)
    else:
        raise ValueError(f"unknown step {step!r}")
    return ref


def sync_ticket(
    backend: TicketBackend,
    event: Event,
    *,
    title: str,
    body: str,
    labels: Sequence[str],
    fingerprint: str,
    ref: TicketRef | None = None,
) -> tuple[Step, TicketRef | None]:
    """Bring the fingerprint's ticket in line with ``event``, using the remote
    state as the truth. ``ref`` (e.g. stored by the caller) saves the search."""
    if ref is None:
        ref = backend.find(fingerprint)
    current: Current = "none" if ref is None else backend.state(ref)
    step = ticket_step(current, event)
    return step, apply_step(backend, ref, step, title=title, body=body, labels=labels, fingerprint=fingerprint)
