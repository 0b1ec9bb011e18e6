"""Remediation in Celery: thin wrappers that take ids and call one service each."""

from celery import shared_task

from remediation import compliance, dryrun, policy_runs, runner, services


@shared_task(name="remediation.tasks.evaluate_resources", ignore_result=True)
def evaluate_resources(resource_ids: list[int]) -> int:
    return compliance.resources_evaluate(resource_ids)


@shared_task(name="remediation.tasks.evaluate_periodic", ignore_result=True)
def evaluate_periodic() -> int:
    """Account-level rules, every resource again with the IAM credential report, then a trend sample."""
    count = compliance.accounts_evaluate()
    services.sample_record()
    return count


@shared_task(name="remediation.tasks.evaluate_rule", ignore_result=True)
def evaluate_rule(rule_id: int | None) -> int:
    """A new or changed rule (None: every rule, after an exception changed) over every current resource."""
    return compliance.rule_evaluate_everywhere(rule_id)


@shared_task(name="remediation.tasks.remediate_findings", ignore_result=True)
def remediate_findings(finding_ids: list[int]) -> int:
    return policy_runs.findings_act(finding_ids)


@shared_task(name="remediation.tasks.remediate_events", ignore_result=True)
def remediate_events(handoff_id: int) -> int:
    """New writes handed on by ingest, against the event rules."""
    return policy_runs.events_handoff_take(handoff_id)


@shared_task(name="remediation.tasks.action_chain", ignore_result=True)
def action_chain(run_id: int) -> int:
    return len(runner.chain_execute(run_id))


@shared_task(name="remediation.tasks.dry_run_execute", ignore_result=True)
def dry_run_execute(dry_run_id: int) -> str:
    done = dryrun.dry_run_execute(dry_run_id)
    return done.status if done else "claimed elsewhere"
