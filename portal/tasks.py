from celery import shared_task

from portal import runs
from portal.services import database_analyze as analyze, heartbeat_record


@shared_task(name="portal.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Scheduled by beat: proves that beat, the broker and a worker all run."""
    heartbeat_record(name="worker", detail="beat → broker → worker")


@shared_task(name="portal.tasks.database_analyze", ignore_result=True)
def database_analyze() -> None:
    """Daily: the planner's statistics brought up to date (see portal.services.database_analyze)."""
    analyze()


@shared_task(name="portal.tasks.runs_reconcile", ignore_result=True)
def runs_reconcile() -> int:
    """Every registered background run whose message was lost or whose worker stopped, sent again (portal.runs)."""
    return runs.reconcile_all()
