"""Dry-run against the past: policies (drafts or active) replayed over a window of stored CloudTrail events and
configuration items.

Each policy is taken as it was when the dry run was asked for (a snapshot: a later edit does not change the
report). An event rule's pattern is matched against every stored event of the window; a rule policy's rule is
evaluated again on every configuration item of the window, and a resource that turns NON_COMPLIANT (and is not
excepted at that moment) triggers the chain, as it does live. Each action's plan is made from the configuration
the recorder had stored at that moment (``Action.preview_recorded``): no AWS call, nothing in any account
changes. The report lists every action the policies would have taken (target, API call, parameters, expected
change), how that differs from what the active versions did in the same window (their ActionRun rows), and the
compliance it would have produced. An admin may approve a report and apply it as a plan: exactly those actions,
each read again and skipped when its target changed since (``Action.apply`` does the check).

Signatures (stored ones, whatever their status, and drafts not saved yet) take part too: replayed over the same
events (``triage.signature_replay``), the report says what each would have hit and the alerts it would have raised,
against what the stored one really did.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal import queue
from remediation.models import (
    ActionRun,
    ActionStatus,
    DryRun,
    Policy,
    PolicyMode,
)
from remediation import dryrun_signatures
from remediation.dryrun_replay import OUTCOMES, WOULD_RUN, Replay

log = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=31)


# --- asking for one ---------------------------------------------------------------------------------------

def policy_snapshot(policy: Policy) -> dict[str, Any]:
    """The policy (and its rule) as the dry run will run it."""
    rule = policy.rule
    return {"id": policy.pk, "name": policy.name, "version": policy.version, "mode": policy.mode,
            "event_pattern": policy.event_pattern, "actions": policy.actions, "scope": policy.scope or {},
            "max_resources": policy.max_resources,
            "rule": None if rule is None else {"id": rule.pk, "name": rule.name, "kind": rule.kind,
                                               "source": rule.source, "parameters": rule.parameters,
                                               "definition": rule.definition}}


def _moment(value: Any, name: str) -> datetime:
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError({name: [f"{value!r} is not a date and time (ISO 8601, e.g. 2026-11-28T10:00:00Z)"]})
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationError({name: ["Give a date and time (ISO 8601)."]})
    return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.utc)


def _policies(policy_ids: Any) -> list[Policy]:
    if not isinstance(policy_ids, list | tuple):
        raise ValidationError({"policies": ["Give a list of policy ids."]})
    try:
        ids = [int(p) for p in policy_ids]
    except (TypeError, ValueError):
        raise ValidationError({"policies": ["Policy ids are whole numbers."]}) from None
    in_range = [i for i in ids if 0 < i < 2 ** 63]  # a larger one overflows the id column's query: it is missing
    policies = list(Policy.objects.filter(pk__in=in_range).select_related("rule"))
    missing = sorted(set(ids) - {p.pk for p in policies})
    if missing:
        raise ValidationError({"policies": [f"No policy with id {', '.join(map(str, missing))}."]})
    return policies


def dry_run_create(*, policy_ids: Any = (), since: Any, until: Any, user: Any, signature_names: Any = (),
                   signature_drafts: Any = ()) -> DryRun:
    """A PENDING dry run of these policies and signatures over [since, until]; its task starts once the
    transaction commits."""
    policies = _policies(policy_ids)
    signatures = dryrun_signatures.snapshots(signature_names, signature_drafts)
    if not policies and not signatures:
        message = "Give at least one policy or one signature."
        raise ValidationError({"policies": [message], "signatures": [message]})
    start, end = _moment(since, "since"), _moment(until, "until")
    now = timezone.now()
    if start >= end:
        raise ValidationError({"until": ["until must be after since."]})
    if start > now:
        raise ValidationError({"since": ["since is in the future: a dry run replays the past."]})
    if end - start > MAX_WINDOW:
        raise ValidationError({"since": [f"The window is at most {MAX_WINDOW.days} days."]})
    with transaction.atomic():
        dry_run = DryRun.objects.create(since=start, until=min(end, now), requested_by=user, signatures=signatures,
                                        snapshot=[policy_snapshot(p) for p in sorted(policies, key=lambda p: p.name)])
        dry_run.policies.set(policies)
    queue.enqueue("remediation.tasks.dry_run_execute", dry_run.pk)
    return dry_run


# --- running it -------------------------------------------------------------------------------------------

def dry_run_execute(dry_run_id: int) -> DryRun | None:
    """Claim a PENDING dry run and replay it; FAILED with the reason if it cannot finish. Safe to run twice."""
    if not DryRun.objects.filter(pk=dry_run_id, status=DryRun.Status.PENDING).update(
            status=DryRun.Status.RUNNING, started=timezone.now()):
        return None  # another worker has it, or it ran already
    dry_run = DryRun.objects.get(pk=dry_run_id)
    try:
        report = Replay(dry_run).run()
    except Exception as exc:  # a background run: the row says what went wrong, the page shows it
        log.exception("dry run %s failed", dry_run_id)
        DryRun.objects.filter(pk=dry_run_id).update(status=DryRun.Status.FAILED, finished=timezone.now(),
                                                    error=f"{type(exc).__name__}: {exc}"[:2000])
    else:
        DryRun.objects.filter(pk=dry_run_id).update(status=DryRun.Status.SUCCEEDED, finished=timezone.now(),
                                                    report=report)
    dry_run.refresh_from_db()
    return dry_run


# --- approving one ---------------------------------------------------------------------------------------

def dry_run_apply(*, dry_run: DryRun, user: Any) -> list[int]:
    """Approve the report and apply it as a plan: one enforce ActionRun per action it would have run, carrying
    that plan (the runner reads the target again and skips it if it changed). Once only. Returns the first run
    of each chain, for the caller to start."""
    if dry_run.status != DryRun.Status.SUCCEEDED:
        raise ValidationError({"dry_run": [f"Dry run {dry_run.pk} is {dry_run.status}: only a finished report can be "
                                           f"applied."]})
    chains: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in dry_run.report.get("actions", []):
        chains[entry["chain"]].append(entry)
    runnable = {c: steps for c, steps in chains.items() if steps and steps[0]["outcome"] == WOULD_RUN}
    if not runnable:
        raise ValidationError({"dry_run": ["The report has no action to apply."]})
    policies = {p.pk: p for p in Policy.objects.filter(pk__in=[s["id"] for s in dry_run.snapshot])}
    first: list[int] = []
    with transaction.atomic():
        if not DryRun.objects.filter(pk=dry_run.pk, applied=None).update(applied=timezone.now(), applied_by=user):
            raise ValidationError({"dry_run": [f"Dry run {dry_run.pk} was applied already."]})
        for chain, steps in sorted(runnable.items()):
            for entry in steps:
                if entry["outcome"] not in (WOULD_RUN,):
                    break
                target = entry["target"]
                run = ActionRun.objects.create(
                    policy=policies.get(entry["policy_id"]), policy_version=entry["policy_version"],
                    mode=PolicyMode.ENFORCE, action=entry["action"], step=entry["step"],
                    account_id=target["account_id"], region=target["region"],
                    resource_type=target["resource_type"], resource_id=target["resource_id"], target=target,
                    reason=f"{entry['reason']} (dry run {dry_run.pk}, approved by {user.get_username()})"[:500],
                    event_id=entry["trigger"].get("event_id", ""), requested_by=user, dry_run=dry_run,
                    dedupe_key=f"plan:{dry_run.pk}:{chain}:{entry['step']}", plan=entry["plan"],
                    status=ActionStatus.PENDING)
                if entry["step"] == steps[0]["step"]:
                    first.append(run.pk)
    queue.enqueue_each("remediation.tasks.action_chain", first)
    return first


# --- reading one ------------------------------------------------------------------------------------------

def counts(report: dict[str, Any]) -> dict[str, int]:
    """How many of the report's actions had each outcome."""
    out = {outcome: 0 for outcome in OUTCOMES}
    for entry in report.get("actions", []):
        out[entry["outcome"]] = out.get(entry["outcome"], 0) + 1
    return out
