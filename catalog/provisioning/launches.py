"""The launch state machine: a LaunchRequest's life after it was asked for, one guarded transition at a time.

`launch_transition` is the claim: a conditional UPDATE plus an append-only transition row, so a second worker, a
retry or a duplicate message finds the status already moved and does nothing. The steps below are what the Celery
tasks (catalog.tasks, thin wrappers) carry out: create the stack, watch it, update it, delete it. A launch left in
flight (a lost message, a stopped worker) is handed out again by portal's reconciler (portal.runs), registered in
`runs_register`: once per STALE_AFTER, by its clock, to the step its state asks for.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog import stacks
from catalog.models import ConstraintType, LaunchRequest, LaunchStatus, LaunchTransition
from portal import aws, queue, runs
from portal.notifications import notify

log = logging.getLogger(__name__)
S = LaunchStatus
MAX_WATCH_SECONDS = 2 * 60 * 60
MAX_BLIND_SECONDS = 120
STALE_AFTER = timedelta(minutes=3)
MAX_HAND_OUTS = 50  # by the reconciler, in one step: a stack may take two hours (40 of them) to settle
PROVISION, WATCH = "catalog.tasks.launch_provision", "catalog.tasks.launch_watch"
UPDATE, TERMINATE = "catalog.tasks.launch_update_run", "catalog.tasks.launch_terminate"


def launch_transition(*, launch_id: int, allowed_from: Iterable[str], to: str, reason: str = "", **fields) -> bool:
    """Move a launch to `to` only if it is still in one of `allowed_from`; record the transition.

    The conditional UPDATE is the claim: a second worker, a retry or a duplicate message finds the
    status already moved and does nothing.
    """
    allowed_from = list(allowed_from)
    with transaction.atomic():
        current = LaunchRequest.objects.filter(pk=launch_id).values_list("status", flat=True).first()
        claimed = LaunchRequest.objects.filter(pk=launch_id, status__in=allowed_from).update(
            status=to, status_reason=reason[:2000], updated=timezone.now(), **fields)
        if claimed:
            LaunchTransition.objects.create(launch_id=launch_id, old_status=current or "", new_status=to,
                                            reason=reason[:2000])
    return bool(claimed)


def _launch(launch_id: int) -> LaunchRequest | None:
    return LaunchRequest.objects.select_related("version__document", "owner", "team", "product").filter(
        pk=launch_id).first()


def _aws_failure(exc: Exception) -> str:
    if isinstance(exc, aws.ClientError):
        return f"AWS refused: {aws.error_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}"
    if isinstance(exc, aws.BotoCoreError):
        return f"AWS could not be reached: {exc}"
    return "AWS answered with something that is not an AWS answer (the sandbox does not support this call)"


def launch_provision(launch_id: int) -> None:
    """Claim a requested launch (the attempt counted) and create its stack."""
    if not launch_transition(launch_id=launch_id, allowed_from=[S.CREATED], to=S.IN_PROGRESS,
                             reason="Creating the stack", attempts=F("attempts") + 1, claimed=timezone.now()):
        return
    _create_stack(launch_id)


def _create_stack(launch_id: int, waited: int = 0) -> None:
    launch = _launch(launch_id)
    try:
        stack_id = stacks.stack_create(launch, stacks.template_upload(launch))
    except aws.AWS_ERRORS as exc:
        if aws.answer_lost(exc):  # CloudFormation may have made the stack: find out rather than guess
            log.warning("launch %s: no answer to the create (%s); looking for the stack", launch_id, exc)
            _watch_again(launch_id, waited)
            return
        _finish(launch_id, S.FAILED, _aws_failure(exc))
        return
    except ValueError as exc:  # the NoEcho values cannot be decrypted
        _finish(launch_id, S.FAILED, str(exc))
        return
    LaunchRequest.objects.filter(pk=launch_id).update(stack_id=stack_id)
    queue.send(WATCH, launch_id)


def launch_watch(launch_id: int, waited: int = 0) -> None:
    launch = _launch(launch_id)
    if launch is None or launch.status not in (S.IN_PROGRESS, S.TERMINATING):
        return
    if launch.status == S.IN_PROGRESS and not launch.stack_id and not launch.pending_update:
        _resume_create(launch, waited)
        return
    try:
        stack = stacks.stack_describe(launch)
    except aws.AWS_ERRORS as exc:
        # Not knowing is not an answer: ask again for a while, then say why we stopped.
        if waited > MAX_BLIND_SECONDS:
            _finish(launch_id, S.FAILED, f"The stack's state is unknown: {_aws_failure(exc)}", pending_update=None)
        else:
            _watch_again(launch_id, waited)
        return
    if _settle(launch, stack):
        return
    if waited > MAX_WATCH_SECONDS:
        _finish(launch_id, S.FAILED, "The stack did not finish within two hours.", pending_update=None)
        return
    _watch_again(launch_id, waited)


def _watch_again(launch_id: int, waited: int) -> None:
    delay = min(30, 2 + waited // 10)
    queue.send(WATCH, launch_id, waited + delay, countdown=delay)


def _settle(launch: LaunchRequest, stack: dict | None) -> bool:
    """Record a terminal stack state; True when the launch reached its end."""
    status = stack["StackStatus"] if stack else None
    if launch.status == S.TERMINATING:
        if stack is None or status == "DELETE_COMPLETE":
            _finish(launch.pk, S.TERMINATED, "The stack is deleted" + _kept_note(launch))
            return True
        if status == "DELETE_FAILED":
            _finish(launch.pk, S.FAILED, stacks.failure_reason(launch, stack))
            return True
        return False
    if launch.pending_update:
        return _settle_update(launch, stack, status)
    if status in stacks.TERMINAL_OK:
        _finish(launch.pk, S.SUCCEEDED, "The stack is complete", outputs=stacks.outputs_of(stack))
        return True
    if status in stacks.TERMINAL_FAILED or status == "DELETE_COMPLETE":
        _finish(launch.pk, S.FAILED, stacks.failure_reason(launch, stack))
        return True
    return False


def _settle_update(launch: LaunchRequest, stack: dict | None, status: str | None) -> bool:
    pending = launch.pending_update
    if status == "UPDATE_COMPLETE":
        version = launch.product.versions.get(pk=pending["version"])
        _finish(launch.pk, S.SUCCEEDED, f"Updated to {version.name}", version=version,
                parameters=pending["parameters"], secrets=pending["secrets"], outputs=stacks.outputs_of(stack),
                template_override=pending.get("template_override", ""),
                guardrail_fixes=pending.get("guardrail_fixes", []), pending_update=None)
        return True
    if status in stacks.TERMINAL_FAILED or stack is None:
        reason = stacks.failure_reason(launch, stack) if stack else "The stack is gone"
        kept = S.SUCCEEDED if status == "UPDATE_ROLLBACK_COMPLETE" else S.FAILED
        _finish(launch.pk, kept, f"The update failed and was rolled back: {reason}", pending_update=None)
        return True
    return False


def _kept_note(launch: LaunchRequest) -> str:
    """What the delete kept in the account (the template's DeletionPolicy), noted on the launch; nothing deletes it."""
    try:
        kept = stacks.kept_resources(launch) if launch.stack_id else []
    except aws.AWS_ERRORS as exc:
        return f"; could not read what it kept: {_aws_failure(exc)}"
    if not kept:
        return ""
    ids = {k["logical_id"] for k in kept}
    noted = [{**r, "kept": r["logical_id"] in ids} for r in launch.stack_resources]
    noted += [{**k, "kept": True} for k in kept if k["logical_id"] not in {r["logical_id"] for r in noted}]
    LaunchRequest.objects.filter(pk=launch.pk).update(stack_resources=noted)
    return "; kept in the account by the template's DeletionPolicy: " + ", ".join(
        f"{k['logical_id']} ({k['physical_id']})" if k["physical_id"] else k["logical_id"] for k in kept)


def _finish(launch_id: int, to: str, reason: str, **fields) -> None:
    if to in (S.SUCCEEDED, S.TERMINATED):
        fields["attempts"] = 0  # the next step (an update, the delete) counts its own
    if not launch_transition(launch_id=launch_id, allowed_from=[S.IN_PROGRESS, S.TERMINATING], to=to,
                             reason=reason, **fields):
        return
    launch = _launch(launch_id)
    constraints = launch.product.constraints.filter(type=ConstraintType.NOTIFICATION)
    notify(subject=f"Launch {launch.name} {to.lower().replace('_', ' ')}", body=reason,
           url=launch.get_absolute_url(), level="success" if to in (S.SUCCEEDED, S.TERMINATED) else "danger",
           users=[launch.owner],
           emails=[e for c in constraints for e in c.definition.get("emails", [])],
           sns_topic_arns=[a for c in constraints for a in c.definition.get("sns_topic_arns", [])])


def launch_update_run(launch_id: int) -> None:
    launch = _launch(launch_id)
    if launch is None or launch.status != S.IN_PROGRESS or not launch.pending_update:
        return
    version = launch.product.versions.select_related("document").get(pk=launch.pending_update["version"])
    try:
        body = launch.pending_update.get("template_override") or version.document.body
        stacks.stack_update(launch, stacks.template_upload(launch, version, body))
    except aws.ClientError as exc:
        if "No updates are to be performed" in str(exc):
            _finish(launch_id, S.SUCCEEDED, "Nothing to change", pending_update=None)
            return
        _finish(launch_id, S.SUCCEEDED if launch.stack_id else S.FAILED,
                f"The update was refused: {_aws_failure(exc)}", pending_update=None)
        return
    except aws.AWS_ERRORS as exc:
        _finish(launch_id, S.SUCCEEDED, f"The update could not start: {_aws_failure(exc)}", pending_update=None)
        return
    # Asked: from now on the reconciler watches it rather than asking again.
    LaunchRequest.objects.filter(pk=launch_id, status=S.IN_PROGRESS).update(
        pending_update={**launch.pending_update, "started": True}, updated=timezone.now())
    queue.send(WATCH, launch_id)


def launch_delete_run(launch_id: int) -> None:
    """Delete a TERMINATING launch's stack (asking again is harmless), then watch it go."""
    launch = _launch(launch_id)
    if launch is None or launch.status != S.TERMINATING:
        return
    if launch.stack_id:
        try:
            stacks.remember_resources(launch)
            stacks.stack_delete(launch)
        except aws.AWS_ERRORS as exc:
            _finish(launch_id, S.FAILED, _aws_failure(exc))
            return
    queue.send(WATCH, launch_id)


def launch_hand_out(launch: LaunchRequest) -> bool:
    """A launch portal's reconciler found stuck, handed to the step its state asks for; False: the broker is away."""
    if launch.status == S.CREATED:
        return queue.send(PROVISION, launch.pk)
    if launch.status == S.IN_PROGRESS and not launch.stack_id:
        _resume_create(launch)
        return True
    if launch.status == S.TERMINATING:  # the delete may never have been asked: asking again is harmless
        return queue.send(TERMINATE, launch.pk)
    if launch.pending_update and not launch.pending_update.get("started"):  # its message was lost
        return queue.send(UPDATE, launch.pk)
    return queue.send(WATCH, launch.pk)


def _give_up(launch: LaunchRequest, why: str) -> bool:
    _finish(launch.pk, S.FAILED, f"{why} (handed out again {launch.attempts} times)", pending_update=None)
    return True


def runs_register() -> None:
    """Launches a lost worker or a lost message left in flight are brought to their true state, from what AWS says:
    claimed by their clock, handed out once per STALE_AFTER by one reconciler, however long AWS stays away."""
    runs.register(LaunchRequest, task=WATCH, stale_after=STALE_AFTER, max_attempts=MAX_HAND_OUTS,
                  hand_out=launch_hand_out, give_up=_give_up, counts_hand_outs=True)


def _resume_create(launch: LaunchRequest, waited: int = 0) -> None:
    """A create whose answer never came (a lost worker, a broken connection): adopt the stack CloudFormation has,
    or create it; not knowing is asked again for a while, as in launch_watch."""
    try:
        stack = stacks.stack_describe(launch)
    except aws.AWS_ERRORS as exc:
        log.warning("launch %s: %s", launch.pk, _aws_failure(exc))
        if waited > MAX_BLIND_SECONDS:
            _finish(launch.pk, S.FAILED, f"The stack's state is unknown: {_aws_failure(exc)}")
        else:
            _watch_again(launch.pk, waited)
        return
    if stack is None:
        _create_stack(launch.pk, waited)  # the same ClientRequestToken: CloudFormation creates it at most once
    else:
        LaunchRequest.objects.filter(pk=launch.pk).update(stack_id=stack["StackId"])
        queue.send(WATCH, launch.pk)
