"""Which Celery queue each task waits in, by task name: so that a backlog of files or scans never delays a fix.

Two workers share the queues (Procfile, docker-compose.yml): a fast one for what someone or something waits on
(event intake, rules and remediation, launches) and a bulk one for what may take minutes (log files, full scans,
everything else). A task routed nowhere waits in the default queue, `celery` (the rest); a new task gets its line
here (portal/tests/test_routing.py fails until it has one). Beat, `portal.queue` and `send_task` all route by name.
"""

from __future__ import annotations

DEFAULT_QUEUE = "celery"  # Celery's own default: messages queued before routing existed are still taken

# queue → what waits in it
QUEUES: dict[str, str] = {
    "intake": "new events taken in and handed on: the CloudTrail pollers, the hand-ons of new events, the "
              "recorder's snapshots of what new writes touched",
    "remediation": "rules over changed resources, findings acted on, remediation action chains",
    "launches": "launches, updates and terminations and their watches; connection and drift checks (someone waits "
                "on them)",
    "files": "CloudTrail and VPC flow-log files read and stored",
    "recorder": "the recorder's full scans of every account",
    DEFAULT_QUEUE: "the rest: upkeep, the reconciler, rules over everything, dry runs, org sync, alarms, tickets",
}

# The worker groups: `celery worker -Q <their queues joined by commas>` (Procfile, docker-compose.yml).
FAST_QUEUES = ("intake", "remediation", "launches")
BULK_QUEUES = ("files", "recorder", DEFAULT_QUEUE)

ROUTES: dict[str, str] = {
    # event intake
    "audit.tasks.cloudtrail_poll": "intake",
    "audit.tasks.cloudtrail_lookup_poll": "intake",
    "audit.tasks.recorder_events": "intake",
    "audit.tasks.recorder_events_run": "intake",
    "triage.tasks.match_events": "intake",
    # rules and remediation
    "remediation.tasks.evaluate_resources": "remediation",
    "remediation.tasks.remediate_findings": "remediation",
    "remediation.tasks.remediate_events": "remediation",
    "remediation.tasks.action_chain": "remediation",
    # launches
    "catalog.tasks.launch_provision": "launches",
    "catalog.tasks.launch_watch": "launches",
    "catalog.tasks.launch_update_run": "launches",
    "catalog.tasks.launch_terminate": "launches",
    "onboarding.tasks.connection_check_run": "launches",
    "catalog.tasks.drift_check_run": "launches",  # asked for on a launch's page: its owner waits on it
    # file ingest
    "audit.tasks.cloudtrail_ingest_file": "files",
    "triage.tasks.flowlogs_poll": "files",
    "triage.tasks.flowlog_ingest_file": "files",
    # the recorder's full scans
    "audit.tasks.recorder_scan_all": "recorder",
    "audit.tasks.recorder_run": "recorder",
    # the rest
    "remediation.tasks.evaluate_periodic": DEFAULT_QUEUE,
    "remediation.tasks.evaluate_rule": DEFAULT_QUEUE,
    "remediation.tasks.dry_run_execute": DEFAULT_QUEUE,
    "catalog.tasks.drift_check_all": DEFAULT_QUEUE,  # the periodic sweep: only asks for each launch's check
    "portal.tasks.worker_heartbeat": DEFAULT_QUEUE,
    "portal.tasks.runs_reconcile": DEFAULT_QUEUE,
    "portal.tasks.database_analyze": DEFAULT_QUEUE,
    "audit.tasks.events_purge": DEFAULT_QUEUE,
    "security.tasks.audit_log_purge": DEFAULT_QUEUE,
    "triage.tasks.org_sync_all": DEFAULT_QUEUE,
    "triage.tasks.alarms_evaluate": DEFAULT_QUEUE,
    "triage.tasks.ticket_sync": DEFAULT_QUEUE,
    "triage.tasks.webhook": DEFAULT_QUEUE,
    "triage.tasks.threat_list_fetch": DEFAULT_QUEUE,
}


def task_routes() -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES: {task name: {"queue": queue}}."""
    return {task: {"queue": queue} for task, queue in ROUTES.items()}


def queue_of(task_name: str) -> str:
    return ROUTES.get(task_name, DEFAULT_QUEUE)


def worker_queues(group: str) -> str:
    """The `-Q` argument of a worker group ("fast" or "bulk")."""
    return ",".join({"fast": FAST_QUEUES, "bulk": BULK_QUEUES}[group])
