"""Reads for /metrics and the operations page, each a query or two at scrape time (no in-process counters,
so every gunicorn worker answers alike)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Model
from django.utils import timezone

from audit.models import EventHandoff, EventMessage, RunStatus
from catalog.models import LaunchRequest, LaunchStatus
from ops import broker
from ops.models import TaskRun
from portal import runs
from portal.celery import app as celery_app
from remediation.models import ActionRun, ActionStatus, Compliance, Finding, Rule
from triage.models import Alert, AlertStatus, Severity


def queue_names() -> list[str]:
    return sorted(celery_app.amqp.queues.keys()) or [celery_app.conf.task_default_queue]


def queue_states(*, connection=None) -> dict[str, broker.QueueState]:
    """Each Celery queue's depth and how long its oldest message has waited, asked of the broker (ops.broker)."""
    own = connection is None
    conn = celery_app.connection_for_read() if own else connection
    try:
        conn.ensure_connection(max_retries=1, timeout=3)
        return broker.queue_states(conn.default_channel, queue_names())
    finally:
        if own:
            conn.release()


def queue_depths(*, connection=None) -> dict[str, int]:
    """Messages waiting in each Celery queue."""
    return {queue: state.depth for queue, state in queue_states(connection=connection).items()}


def counts_by(model: type[Model], *fields: str, **filters) -> dict[tuple, int]:
    rows = model.objects.filter(**filters).values_list(*fields).annotate(n=Count("pk")).order_by()
    return {tuple(row[:-1]): row[-1] for row in rows}


def launch_counts() -> dict[str, int]:
    found = counts_by(LaunchRequest, "status")
    return {status: found.get((status,), 0) for status in LaunchStatus.values}


def finding_counts() -> dict[tuple[str, str], int]:
    """(rule, status) → findings; every rule with every status, zeros included."""
    found = counts_by(Finding, "rule__name", "status")
    rules = set(Rule.objects.values_list("name", flat=True)) | {rule for rule, _ in found}
    return {(rule, status): found.get((rule, status), 0) for rule in sorted(rules) for status in Compliance.values}


def action_counts() -> dict[tuple[str, str], int]:
    found = counts_by(ActionRun, "action", "status")
    actions = sorted({action for action, _ in found})
    return {(action, status): found.get((action, status), 0) for action in actions for status in ActionStatus.values}


def status_counts(model: type[Model], statuses: list[str]) -> dict[str, int]:
    found = counts_by(model, "status")
    return {status: found.get((status,), 0) for status in statuses}


def handoff_counts() -> dict[tuple[str, str], int]:
    """New events handed on by ingest and not done: not taken yet (PENDING), being worked on (RUNNING), or given up
    on after failing again and again (FAILED), by consumer."""
    return counts_by(EventHandoff, "consumer", "status",
                     status__in=[RunStatus.PENDING, RunStatus.RUNNING, RunStatus.FAILED])


def background_runs() -> list[dict]:
    """Each registered background-run model (portal.runs): how many wait, run, and were given up on (failed)."""
    return [{**row, "stale_after_text": seconds_text(row["stale_after"])} for row in runs.run_counts()]


def background_run_gauge() -> dict[tuple[str, str], int]:
    """(run model, waiting | running | failed) → rows, for /metrics."""
    return {(row["label"], state): row[state] for row in runs.run_counts()
            for state in ("waiting", "running", "failed")}


def open_alert_counts() -> dict[str, int]:
    """Alerts not resolved (open or acknowledged), by severity: what the "open alerts" alarm counts."""
    found = counts_by(Alert, "severity", status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
    return {severity: found.get((severity,), 0) for severity in Severity.values}


def last_success_by_task() -> dict[str, TaskRun]:
    """The newest successful run of each task that has one."""
    newest = (TaskRun.objects.filter(status=TaskRun.Status.SUCCEEDED).values("task").annotate(last=Max("id"))
              .values_list("last", flat=True))
    return {run.task: run for run in TaskRun.objects.filter(id__in=list(newest))}


@dataclass
class ScheduledTask:
    name: str
    task: str
    every: float | None  # seconds; None for a crontab
    schedule: str
    runs: list[TaskRun]  # newest first
    last_success: TaskRun | None
    age: float | None  # seconds since the last run finished
    stale: bool

    @property
    def last(self) -> TaskRun | None:
        return self.runs[0] if self.runs else None

    @property
    def age_text(self) -> str:
        return "" if self.age is None else seconds_text(self.age)

    @property
    def bars(self) -> list[dict]:
        """The recent runs' durations as SVG bars (oldest on the left), 8 px apart in a 40 px high box."""
        peak = max([run.duration for run in self.runs] + [0.001])
        bars = []
        for i, run in enumerate(reversed(self.runs)):
            height = max(1, round(36 * run.duration / peak))
            bars.append({"x": i * 8, "y": 38 - height, "h": height, "failed": run.status == TaskRun.Status.FAILED,
                         "title": f"{run.finished:%H:%M:%S} {run.status.lower()} in {run.duration:.3f} s"})
        return bars


def _every(schedule) -> float | None:
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)  # celery.schedules.schedule; a crontab has none
    return run_every.total_seconds() if isinstance(run_every, timedelta) else None


def seconds_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def scheduled_tasks(*, runs_shown: int = 20) -> list[ScheduledTask]:
    """Every entry of the beat schedule with its recent runs; stale when nothing ran for 3× its interval."""
    from django.conf import settings

    runs = defaultdict(list)
    for run in TaskRun.objects.all():  # at most RUNS_KEPT per task, newest first
        runs[run.task].append(run)
    successes = last_success_by_task()
    now = timezone.now()
    entries = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        every, mine = _every(entry["schedule"]), runs.get(entry["task"], [])
        age = (now - mine[0].finished).total_seconds() if mine else None
        entries.append(ScheduledTask(
            name=name, task=entry["task"], every=every,
            schedule=f"every {seconds_text(every)}" if every else str(entry["schedule"]), runs=mine[:runs_shown],
            last_success=successes.get(entry["task"]), age=age,
            stale=every is not None and age is not None and age > 3 * every))
    return entries


@dataclass
class Worker:
    hostname: str
    last_run: datetime
    runs_last_hour: int
    last_heartbeat: datetime | None


def workers() -> list[Worker]:
    """The workers that ran a periodic task lately, as their recorded runs show (no broadcast to the workers)."""
    since = timezone.now() - timedelta(hours=1)
    rows = (TaskRun.objects.exclude(hostname="").values("hostname")
            .annotate(last=Max("finished")).order_by("hostname"))
    recent = counts_by(TaskRun, "hostname", finished__gte=since)
    beats = dict(TaskRun.objects.filter(task="portal.tasks.worker_heartbeat", status=TaskRun.Status.SUCCEEDED)
                 .values_list("hostname").annotate(last=Max("finished")).order_by())
    return [Worker(hostname=row["hostname"], last_run=row["last"], runs_last_hour=recent.get((row["hostname"],), 0),
                   last_heartbeat=beats.get(row["hostname"])) for row in rows]


@dataclass
class KeptMessages:
    count: int
    latest: list  # the newest few EventMessage rows


def event_messages_kept(shown: int = 3) -> KeptMessages:
    """Messages of the real-time queue kept aside (not a CloudTrail event, unreadable), newest first."""
    return KeptMessages(count=EventMessage.objects.count(), latest=list(EventMessage.objects.all()[:shown]))
