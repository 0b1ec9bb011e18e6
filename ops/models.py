from django.db import models


class TaskRun(models.Model):
    """One run of a periodic task (one of CELERY_BEAT_SCHEDULE's), written by the worker that ran it.

    Only the newest runs of each task are kept (ops.services.RUNS_KEPT).
    """

    class Status(models.TextChoices):
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    task = models.CharField(max_length=200, help_text="The Celery task's name.")
    task_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True, help_text="The request or chain that queued it.")
    started = models.DateTimeField()
    finished = models.DateTimeField()
    duration = models.FloatField(help_text="Seconds.")
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=500, blank=True)
    hostname = models.CharField(max_length=200, blank=True, help_text="The worker that ran it.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["task", "-id"], name="ops_taskrun_task_idx")]

    def __str__(self) -> str:
        return f"{self.task} {self.status} at {self.finished:%Y-%m-%d %H:%M:%S}"
