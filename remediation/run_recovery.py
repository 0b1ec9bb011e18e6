"""Action runs that a lost worker or a lost message left behind, brought to their end (portal.runs' reconciler, every
minute, through the registration in `runs_register`).

RUNNING past STALE_AFTER: the worker that claimed it stopped (killed, out of memory, its machine gone). Whether it
made the call is unknown, so the run goes back to PENDING marked interrupted: its next attempt first re-reads the
target and, when the fix is there, records it as made instead of making it again. PENDING past STALE_AFTER: its
message was lost (a broker restarted without persistence) and it is handed out again, unless an earlier step of
its chain did not succeed (it is then SKIPPED, as the chain would have done) or is still under way (which carries
it on). A second hand-out of a run whose message was only slow is harmless: the claim lets one worker have it.
A NON_COMPLIANT finding under an active policy with no run since it became so lost the message that was to ask
for one: it is asked for now (the same trigger, so at most once).
"""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal import queue, runs
from remediation.models import ActionRun, ActionStatus, Compliance, DryRun, Finding, Policy, PolicyMode
from remediation.policy_runs import CHAIN, findings_remediate

STALE_AFTER = timedelta(minutes=5)
GO_ON = {ActionStatus.SUCCEEDED, ActionStatus.DRY_RUN}
UNDER_WAY = {ActionStatus.PENDING, ActionStatus.RUNNING}
MAX_ATTEMPTS = 15  # claims: AWS out of reach is tried again up to runner.MAX_INTERRUPTIONS times
DRY_RUN_RUNNING_AFTER = timedelta(hours=6)
DRY_RUN_MAX_ATTEMPTS = 3


def _stuck(stale: QuerySet, now: datetime) -> QuerySet:
    """Of the stale runs: every stopped one; the waiting ones whose backoff is over and whose chain goes on."""
    limit = now - STALE_AFTER
    lost = [run.pk for run in stale.filter(status=ActionStatus.PENDING).order_by("step")
            if _waited_long_enough(run, limit) and _goes_on(run)]
    return stale.filter(Q(status=ActionStatus.RUNNING) | Q(pk__in=lost))


def _lost_requests(now: datetime) -> int:
    """Violations whose request was lost, asked for now; their first runs sent."""
    run_ids = findings_unremediated()
    for run_id in run_ids:
        queue.send(CHAIN, run_id)
    return len(run_ids)


def runs_register() -> None:
    """Action runs and dry runs with portal's reconciler (portal.runs)."""
    runs.register(ActionRun, task=CHAIN, stale_after=STALE_AFTER, max_attempts=MAX_ATTEMPTS,
                  waiting_clock="created", running_clock="started", stuck=_stuck,
                  release=lambda run, now: _release(run), also=_lost_requests)
    # A dry run replays up to a month of events: its worker is counted lost only after hours. Its claim is its
    # own (remediation.dryrun), so each hand-out counts as an attempt.
    runs.register(DryRun, task="remediation.tasks.dry_run_execute", stale_after=STALE_AFTER,
                  running_after=DRY_RUN_RUNNING_AFTER, max_attempts=DRY_RUN_MAX_ATTEMPTS, counts_hand_outs=True)


def _waited_long_enough(run: ActionRun, stale) -> bool:
    """A run waiting out its backoff (AWS was away) has a message due later: lost only STALE_AFTER past that."""
    retry_at = parse_datetime((run.outcome or {}).get("retry_at") or "")
    return retry_at is None or retry_at < stale


def _release(run: ActionRun) -> bool:
    """Back to PENDING, marked interrupted: its next attempt first checks whether the fix is there already."""
    tries = (run.outcome or {}).get("interruptions", 0) + 1
    return bool(ActionRun.objects.filter(pk=run.pk, status=ActionStatus.RUNNING, started=run.started).update(
        status=ActionStatus.PENDING, started=None, updated=timezone.now(), outcome={
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
    stale = timezone.now() - STALE_AFTER
    found: set[int] = set()
    for policy in Policy.objects.exclude(rule=None).exclude(mode=PolicyMode.OFF):
        runs = ActionRun.objects.filter(policy=policy, finding=OuterRef("pk"), created__gte=OuterRef("since"))
        found |= set(Finding.objects.filter(rule_id=policy.rule_id, status=Compliance.NON_COMPLIANT, since__lt=stale)
                     .exclude(Exists(runs)).values_list("pk", flat=True))
    return findings_remediate(sorted(found)) if found else []
