"""Writes of operations data: the rows of periodic task runs."""

from datetime import datetime

from django.utils import timezone

from ops.models import TaskRun

RUNS_KEPT = 50  # per task: the page's bars (four minutes of the 5-second poller, 50 days of a daily task)


def task_run_record(*, task: str, task_id: str, request_id: str, started: datetime, duration: float,
                    succeeded: bool, error: str = "", hostname: str = "") -> TaskRun:
    run = TaskRun.objects.create(
        task=task, task_id=task_id[:64], request_id=request_id[:64], started=started, finished=timezone.now(),
        duration=max(duration, 0.0), status=TaskRun.Status.SUCCEEDED if succeeded else TaskRun.Status.FAILED,
        error=error[:500], hostname=hostname[:200],
    )
    task_runs_prune(task=task)
    return run


def task_runs_prune(*, task: str, keep: int = RUNS_KEPT) -> int:
    """Delete all but the newest `keep` runs of a task: one index range read and, usually, one row deleted."""
    oldest_kept = TaskRun.objects.filter(task=task).order_by("-id").values_list("id", flat=True)[keep - 1:keep]
    oldest_kept = list(oldest_kept)
    if not oldest_kept:
        return 0
    return TaskRun.objects.filter(task=task, id__lt=oldest_kept[0]).delete()[0]
