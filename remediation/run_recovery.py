"""Action runs that a lost worker or a lost message left behind, brought to their end (Celery beat, every minute).

RUNNING past STALE_AFTER: the worker that claimed it stopped (killed, out of memory, its machine gone). Whether it
made the call is unknown, so the run goes back to PENDING marked interrupted: its next attempt first re-reads the
target and, when the fix is there, records it as made instead of making it again. PENDING past STALE_AFTER: its
message was lost (a broker restarted without persistence) and it is handed out again, unless an earlier step of
its chain did not succeed (it is then SKIPPED, as the chain would have done) or is still under way (which carries
it on). A second hand-out of a run whose message was only slow is harmless: the claim lets one worker have it.
A NON_COMPLIANT finding under an active policy with no run since it became so lost the message that was to ask
for one: it is asked for now (the same trigger, so at most once).
"""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from remediation.models import ActionRun, ActionStatus, Compliance, Finding, Policy, PolicyMode

STALE_AFTER = timedelta(minutes=5)
GO_ON = {ActionStatus.SUCCEEDED, ActionStatus.DRY_RUN}
UNDER_WAY = {ActionStatus.PENDING, ActionStatus.RUNNING}


def runs_reconcile() -> list[int]:
    """The ids of the runs to hand to `action_chain` again."""
    stale = timezone.now() - STALE_AFTER
    released = [run.pk for run in ActionRun.objects.filter(status=ActionStatus.RUNNING, started__lt=stale)
                if _release(run)]
    lost = [run.pk for run in ActionRun.objects.filter(status=ActionStatus.PENDING, created__lt=stale)
            .exclude(pk__in=released).order_by("step") if _waited_long_enough(run, stale) and _goes_on(run)]
    return released + lost


def _waited_long_enough(run: ActionRun, stale) -> bool:
    """A run waiting out its backoff (AWS was away) has a message due later: lost only STALE_AFTER past that."""
    retry_at = parse_datetime((run.outcome or {}).get("retry_at") or "")
    return retry_at is None or retry_at < stale


def _release(run: ActionRun) -> bool:
    tries = (run.outcome or {}).get("interruptions", 0) + 1
    return bool(ActionRun.objects.filter(pk=run.pk, status=ActionStatus.RUNNING, started=run.started).update(
        status=ActionStatus.PENDING, started=None, outcome={
            "message": "The worker running it stopped; checked and tried again",
            "interrupted": "the worker running it stopped", "interruptions": tries}))


def _goes_on(run: ActionRun) -> bool:
    """Whether a stale PENDING run is to be handed out (its chain's earlier step succeeded, or it is the first)."""
    if run.step == 0:
        return True
    prefix = run.dedupe_key.rsplit(":", 1)[0] + ":"
    previous = ActionRun.objects.filter(dedupe_key__startswith=prefix, step=run.step - 1).values_list(
        "status", flat=True).first()
    if previous in GO_ON or previous is None:
        return True
    if previous not in UNDER_WAY:
        ActionRun.objects.filter(pk=run.pk, status=ActionStatus.PENDING).update(
            status=ActionStatus.SKIPPED, outcome={"message": "An earlier step did not succeed"},
            finished=timezone.now())
    return False


def findings_unremediated() -> list[int]:
    """The first runs asked for now for violations whose request was lost (ids, for `action_chain`)."""
    from remediation.policy_runs import findings_remediate

    stale = timezone.now() - STALE_AFTER
    found: set[int] = set()
    for policy in Policy.objects.exclude(rule=None).exclude(mode=PolicyMode.OFF):
        runs = ActionRun.objects.filter(policy=policy, finding=OuterRef("pk"), created__gte=OuterRef("since"))
        found |= set(Finding.objects.filter(rule_id=policy.rule_id, status=Compliance.NON_COMPLIANT, since__lt=stale)
                     .exclude(Exists(runs)).values_list("pk", flat=True))
    return findings_remediate(sorted(found)) if found else []
