from celery import shared_task

from portal.services import heartbeat_record


@shared_task(name="portal.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Scheduled by beat: proves that beat, the broker and a worker all run."""
    heartbeat_record(name="worker", detail="beat → broker → worker")
