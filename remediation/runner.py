"""Carrying out a policy's chain of action runs: claim, preview, apply (or, in dry_run, only plan), verify, record."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import CloudTrailEvent, ConfigResource
from audit.recorder import Clients, resource_refresh
from portal import aws, queue
from portal.aws_permissions import role_name
from portal.models import Account
from portal.notifications import notify
from remediation.actions import action_by_name
from remediation.actions.base import Plan, Target
from remediation.models import ActionRun, ActionStatus, PolicyMode
from remediation.policy_runs import CHAIN

log = logging.getLogger(__name__)
GO_ON = {ActionStatus.SUCCEEDED, ActionStatus.DRY_RUN}


# AWS out of reach mid-run: the run waits (PENDING, marked interrupted) and is tried again, this many times at most.
MAX_INTERRUPTIONS = 10
RETRY_AFTER_SECONDS = 30


def _claim(run_id: int) -> ActionRun | None:
    if ActionRun.run_claim(run_id):
        return ActionRun.objects.select_related("policy", "finding").get(pk=run_id)
    return None


def chain_execute(first_run_id: int) -> list[ActionRun]:
    """The chain that starts with this run, step by step; a failed step stops the rest (they end SKIPPED)."""
    first = _claim(first_run_id)
    if first is None:
        return []  # another worker has it, or it ran already
    prefix = first.dedupe_key.rsplit(":", 1)[0] + ":"
    done = [_execute(first)]
    for run in ActionRun.objects.filter(dedupe_key__startswith=prefix, step__gt=first.step).order_by("step"):
        if done[-1].status == ActionStatus.PENDING:
            break  # interrupted: the chain goes on when that step is tried again
        if done[-1].status not in GO_ON:
            ActionRun.objects.filter(pk=run.pk, status=ActionStatus.PENDING).update(
                status=ActionStatus.SKIPPED, outcome={"message": "An earlier step did not succeed"},
                finished=timezone.now())
            continue
        claimed = _claim(run.pk)
        if claimed is not None:
            done.append(_execute(claimed))
    return done


def _owners(run: ActionRun) -> list[Any]:
    """The resource's owner (who launched it, or its owner tag) and, for an event, the person who made it."""
    names = set()
    resource = ConfigResource.objects.filter(account_id=run.account_id, resource_type=run.resource_type,
                                             resource_id=run.resource_id).first()
    if resource is not None:
        names |= {resource.tags.get("guardrail:owner", ""), resource.tags.get("owner", "")}
    events = CloudTrailEvent.objects.filter(event_id=run.event_id) if run.event_id else \
        CloudTrailEvent.objects.filter(  # the last person to change it: whose rule just vanished
            account_id=run.account_id, read_only=False, error_code="", by_portal=False,  # a person, not Guardrail
            resources__resource_type=run.resource_type,
            resources__resource_id=run.resource_id).order_by("-event_time")
    names.add(events.values_list("user_name", flat=True).first() or "")
    return list(get_user_model().objects.filter(username__in=[n for n in names if n]))


def remediation_clients(account: Account) -> Clients:
    """Clients acting as the account's remediation role (AWS_REMEDIATION_ROLE_NAME): what the actions read and
    change. Recording stays with the account's reading role (`Clients(account)`)."""
    return Clients(account, role_name=role_name("remediation"), session_name="guardrail-remediation")


def _execute(run: ActionRun) -> ActionRun:
    account = Account.objects.filter(account_id=run.account_id).first()
    action = action_by_name(run.action)
    target = Target.from_dict(run.target)
    plan: dict = {}
    outcome: dict = {}
    if account is None:
        status, outcome = ActionStatus.FAILED, {"message": f"No portal account {run.account_id}"}
    else:
        clients = remediation_clients(account)
        try:
            if _fix_seen(clients, action, target, run):  # an interrupted attempt may have made it already
                status, outcome = ActionStatus.SUCCEEDED, {
                    "message": f"The fix is in place, seen when checked again after {run.outcome['interrupted']}",
                    "verified": True}
            else:
                status, plan, outcome = _attempt(clients, action, target, run, account)
        except aws.AWS_ERRORS as exc:  # assuming the role, for instance
            status, outcome = ActionStatus.FAILED, {"message": f"{aws.error_code(exc)}: {exc}"[:500],
                                                    "error_code": aws.error_code(exc)}
    if status == ActionStatus.FAILED and aws.unreachable(outcome.get("error_code", "")) \
            and (run.outcome or {}).get("interruptions", 0) < MAX_INTERRUPTIONS:
        return _interrupt(run, outcome)
    ActionRun.objects.filter(pk=run.pk).update(status=status, plan=plan, outcome=outcome, finished=timezone.now())
    run.refresh_from_db()
    if run.mode == PolicyMode.ENFORCE and status == ActionStatus.SUCCEEDED and account is not None \
            and action.name != "notify":
        try:  # the fix as a configuration item, at once (the recorder would see it at its next look anyway)
            resource_refresh(clients=Clients(account), resource_type=run.resource_type, region=run.region,
                             resource_id=run.resource_id, cause="REMEDIATION")
        except (aws.AWS_ERRORS + (KeyError,)) as exc:
            log.warning("re-recording %s after remediation failed: %s", run.resource_id, exc)
    _tell(run)
    return run


def _attempt(clients: Clients, action: Any, target: Target, run: ActionRun,
             account: Account) -> tuple[str, dict, dict]:
    """(status, plan, outcome) of previewing and, unless in dry run, applying the action now."""
    if run.mode == PolicyMode.ENFORCE and run.event_id and action.name != "notify":
        _record_before(Clients(account), run)
    # A run from an approved dry-run report carries its plan: apply checks it against a fresh read and
    # skips it when the target changed since. Any other run plans now.
    preview = Plan.from_dict(run.plan) if run.dry_run_id and run.plan else action.preview(clients, target)
    if run.mode == PolicyMode.DRY_RUN:
        return ActionStatus.DRY_RUN, preview.as_dict(), {
            "message": f"Dry run, nothing changed. Would have: {preview.expected_change}"
            if not preview.noop else f"Dry run: {preview.expected_change}"}
    result = action.apply(clients, preview)
    return result.status, preview.as_dict(), result.as_dict()


def _fix_seen(clients: Clients, action: Any, target: Target, run: ActionRun) -> bool:
    """For a run interrupted before (its worker stopped, or AWS went out of reach, mid-call): whether the fix is
    there already, so that it is recorded as made rather than made twice."""
    if not (run.outcome or {}).get("interrupted") or run.mode != PolicyMode.ENFORCE or action.name == "notify":
        return False
    return action.verify(clients, target)


def _interrupt(run: ActionRun, outcome: dict) -> ActionRun:
    """AWS could not be reached: whether the call went through is unknown, so the run is not FAILED but waits
    (PENDING) to be checked and tried again; the chain's later steps wait with it."""
    tries = (run.outcome or {}).get("interruptions", 0) + 1
    retry_at = timezone.now() + timedelta(seconds=RETRY_AFTER_SECONDS * tries)
    ActionRun.objects.filter(pk=run.pk, status=ActionStatus.RUNNING).update(
        status=ActionStatus.PENDING, started=None, outcome={
            "message": f"AWS could not be reached ({outcome.get('message', '')[:300]}); checked and tried again",
            "interrupted": "AWS could not be reached", "interruptions": tries,
            "retry_at": retry_at.isoformat()})  # the reconciler counts its message lost only after this
    queue.send(CHAIN, run.pk, countdown=RETRY_AFTER_SECONDS * tries)
    run.refresh_from_db()
    return run


def _record_before(clients: Clients, run: ActionRun) -> None:
    """An event rule may act before the recorder has looked at what the event did (both follow the ingest): record
    the state the event left first, so the timeline shows it, then the fix (no new item if it was recorded)."""
    try:
        resource_refresh(clients=clients, resource_type=run.resource_type, region=run.region,
                         resource_id=run.resource_id, cause="EVENT")
    except (aws.AWS_ERRORS + (KeyError,)) as exc:
        log.warning("recording %s before remediation failed: %s", run.resource_id, exc)


def _tell(run: ActionRun) -> None:
    admins = list(get_user_model().objects.filter(groups__name="Admin"))
    # A dry run tells the admins what would have happened; the owner hears of changes that were made.
    people = {u.pk: u for u in admins + ([] if run.status == ActionStatus.DRY_RUN else _owners(run))}
    verb = {"SUCCEEDED": "fixed", "DRY_RUN": "would fix (dry run)", "FAILED": "could not fix",
            "SKIPPED": "skipped"}.get(run.status, run.status.lower())
    expected = (run.plan or {}).get("expected_change", "")
    message = (run.outcome or {}).get("message", "")
    notify(subject=f"Guardrail {verb} {run.resource_type.rsplit('::', 1)[-1]} {run.resource_id}"[:200],
           body=f"Why: {run.reason}\nAction: {run.action} ({run.policy.name if run.policy else 'manual'} "
                f"v{run.policy_version}, {run.mode})\nChange: {expected}\nResult: {message}",
           level="warning" if run.status == ActionStatus.FAILED else "info", users=list(people.values()))
