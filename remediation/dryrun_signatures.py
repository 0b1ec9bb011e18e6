"""The signature part of a dry run, plugged in by triage: remediation never imports triage.

triage registers its replay from its AppConfig.ready() (`register(SignatureReplay(...))`), as apps register
their consumers of new events in audit.handoffs. Without it a dry run replays policies only, and a request
that names a signature is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class SignatureReplay:
    names: Callable[[], list[str]]  # the stored signatures, any status: what the form offers
    # (names, drafts) → snapshots to store on the dry run; ValidationError naming `signatures` or `signature_drafts`
    snapshots: Callable[[Any, Any], list[dict[str, Any]]]
    # (snapshots, *, since, until, progress) → one report row per signature
    replay: Callable[..., list[dict[str, Any]]]
    chart: Callable[[dict[str, Any]], dict[str, Any]]  # a report row's chart, drawn as SVG bars


_registered: list[SignatureReplay] = []


def register(replay: SignatureReplay) -> None:
    _registered[:] = [replay]


def registered() -> SignatureReplay | None:
    return _registered[0] if _registered else None


def signature_choices() -> list[tuple[str, str]]:
    plugin = registered()
    return [(name, name) for name in plugin.names()] if plugin else []


def snapshots(names: Any, drafts: Any) -> list[dict[str, Any]]:
    """What the dry run will replay of these signatures and drafts (none when neither is given)."""
    plugin = registered()
    if plugin is not None:
        return plugin.snapshots(names, drafts)
    if names or drafts:
        raise ValidationError({"signatures": ["Signatures are not installed here: give policies only."]})
    return []
