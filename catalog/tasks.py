"""Launch work in Celery: thin wrappers over the launch state machine (catalog.provisioning.launches). Each takes
an id; the step claims its transition with a conditional UPDATE, so retries, duplicates and the reconciler never do
a step twice."""

from celery import shared_task

from catalog import drift
from catalog.provisioning import launches


@shared_task(name="catalog.tasks.launch_provision", ignore_result=True)
def launch_provision(launch_id: int) -> None:
    launches.launch_provision(launch_id)


@shared_task(name="catalog.tasks.launch_watch", ignore_result=True)
def launch_watch(launch_id: int, waited: int = 0) -> None:
    launches.launch_watch(launch_id, waited)


@shared_task(name="catalog.tasks.launch_update_run", ignore_result=True)
def launch_update_run(launch_id: int) -> None:
    launches.launch_update_run(launch_id)


@shared_task(name="catalog.tasks.launch_terminate", ignore_result=True)
def launch_terminate(launch_id: int) -> None:
    launches.launch_delete_run(launch_id)


@shared_task(name="catalog.tasks.drift_check_run", ignore_result=True)
def drift_check_run(check_id: int) -> None:
    drift.drift_check_run(check_id)


@shared_task(name="catalog.tasks.drift_check_all", ignore_result=True)
def drift_check_all() -> int:
    return drift.drift_check_all()
