"""Onboarding in Celery: a thin wrapper taking an id."""

from celery import shared_task

from onboarding import services


@shared_task(name="onboarding.tasks.connection_check_run", ignore_result=True)
def connection_check_run(check_id: int) -> str:
    return services.check_run(check_id)
