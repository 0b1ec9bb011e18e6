"""Checks other parts of the portal run on a launch before anything is created (the rules' guardrails).

A check is ``check(template: dict, parameters: dict, tags: dict, account_id: str, region: str) -> LaunchVerdict``;
remediation registers its guardrails here at start-up, so the catalog needs no knowledge of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LaunchVerdict:
    blocked: list[str] = field(default_factory=list)  # one line per violation, naming rule and resource
    fixes: list[str] = field(default_factory=list)  # plain lines: what the portal changed for safety
    template: dict[str, Any] | None = None  # the changed template, when fixes were applied


LAUNCH_CHECKS: list[Callable[..., LaunchVerdict]] = []


def launch_checks_run(**kwargs: Any) -> LaunchVerdict:
    verdict = LaunchVerdict()
    for check in LAUNCH_CHECKS:
        rest = {k: v for k, v in kwargs.items() if k != "template"}
        found = check(template=verdict.template or kwargs["template"], **rest)
        verdict.blocked += found.blocked
        verdict.fixes += found.fixes
        verdict.template = found.template or verdict.template
    return verdict
