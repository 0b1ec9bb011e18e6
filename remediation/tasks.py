"""Rule evaluation in Celery: change-triggered on new items, periodic for account-level rules and the trend."""

from celery import shared_task

BATCH = 500


@shared_task(name="remediation.tasks.evaluate_resources", ignore_result=True)
def evaluate_resources(resource_ids: list[int]) -> int:
    from remediation import compliance

    return compliance.resources_evaluate(resource_ids)


@shared_task(name="remediation.tasks.evaluate_periodic", ignore_result=True)
def evaluate_periodic() -> int:
    """Account-level rules, every resource again with the IAM credential report, then a trend sample."""
    from remediation import compliance, services

    count = compliance.accounts_evaluate()
    services.sample_record()
    return count


@shared_task(name="remediation.tasks.evaluate_rule", ignore_result=True)
def evaluate_rule(rule_id: int | None) -> int:
    """A new or changed rule (None: every rule, after an exception changed) over every current resource."""
    from remediation import compliance, services
    from remediation.models import Rule

    rules = Rule.objects.filter(enabled=True)
    if rule_id is not None:
        rules = rules.filter(pk=rule_id)
    ids = services.current_resource_ids()
    return sum(compliance.resources_evaluate(ids[i:i + BATCH], rules=rules) for i in range(0, len(ids), BATCH))


@shared_task(name="remediation.tasks.remediate_findings", ignore_result=True)
def remediate_findings(finding_ids: list[int]) -> int:
    from remediation import policy_runs

    runs = policy_runs.findings_remediate(finding_ids)
    for run_id in runs:
        action_chain.delay(run_id)
    return len(runs)


@shared_task(name="remediation.tasks.remediate_events", ignore_result=True)
def remediate_events(handoff_id: int) -> int:
    """New writes handed on by ingest, against the event rules."""
    from audit import handoffs
    from remediation import policy_runs

    handoff = handoffs.handoff_claim(handoff_id)
    if handoff is None:
        return 0
    runs = policy_runs.events_remediate(list(handoff.event_ids))
    handoffs.handoff_done(handoff)
    for run_id in runs:
        action_chain.delay(run_id)
    return len(runs)


@shared_task(name="remediation.tasks.action_chain", ignore_result=True)
def action_chain(run_id: int) -> int:
    from remediation import runner

    return len(runner.chain_execute(run_id))


@shared_task(name="remediation.tasks.actions_reconcile", ignore_result=True)
def actions_reconcile() -> int:
    """Runs a stopped worker left RUNNING, or whose message was lost, handed out again; violations whose request
    was lost, asked for (see run_recovery)."""
    from remediation import run_recovery

    run_ids = run_recovery.runs_reconcile() + run_recovery.findings_unremediated()
    for run_id in run_ids:
        action_chain.delay(run_id)
    return len(run_ids)


@shared_task(name="remediation.tasks.dry_run_execute", ignore_result=True)
def dry_run_execute(dry_run_id: int) -> str:
    from remediation import dryrun

    done = dryrun.dry_run_execute(dry_run_id)
    return done.status if done else "claimed elsewhere"
