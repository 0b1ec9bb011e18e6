"""CloudTrail events as the portal stores them: one row per eventID, with the raw record."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.models import Team


class LogFileStatus(models.TextChoices):
    PENDING = "PENDING"
    INGESTING = "INGESTING"
    DONE = "DONE"
    QUARANTINED = "QUARANTINED"


class LogFile(models.Model):
    """One CloudTrail log file and what became of it; a bad file is quarantined with the reason."""

    bucket = models.CharField(max_length=255)
    key = models.CharField(max_length=1024)
    account_id = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=12, choices=LogFileStatus.choices, default=LogFileStatus.PENDING)
    reason = models.TextField(blank=True)
    records = models.PositiveIntegerField(default=0, help_text="Records stored from this file.")
    duplicates = models.PositiveIntegerField(default=0, help_text="Records already stored from another file.")
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="logfile_unique_object")]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class CloudTrailEvent(models.Model):
    event_id = models.CharField(max_length=64, unique=True)
    event_time = models.DateTimeField()
    event_source = models.CharField(max_length=100)
    event_name = models.CharField(max_length=100)
    event_type = models.CharField(max_length=40, blank=True)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30, blank=True)
    source_ip = models.CharField(max_length=100, blank=True)
    user_agent = models.TextField(blank=True)
    error_code = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    read_only = models.BooleanField(default=False)
    identity_type = models.CharField(max_length=40, blank=True)
    identity_arn = models.CharField(max_length=300, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    access_key_id = models.CharField(max_length=40, blank=True)
    session_issuer_arn = models.CharField(max_length=300, blank=True)
    mfa_authenticated = models.BooleanField(null=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    raw = models.JSONField()
    log_file = models.ForeignKey(LogFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    ingested = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-event_time", "-id"]
        indexes = [
            models.Index(fields=["-event_time"], name="event_time_idx"),
            models.Index(fields=["account_id", "-event_time"], name="event_account_time_idx"),
            models.Index(fields=["user_name", "-event_time"], name="event_user_time_idx"),
            models.Index(fields=["event_name", "-event_time"], name="event_name_time_idx"),
            models.Index(fields=["team", "-event_time"], name="event_team_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} by {self.user_name or self.identity_arn} at {self.event_time:%Y-%m-%d %H:%M:%S}"

    def get_absolute_url(self) -> str:
        return reverse("audit:event-detail", args=[self.event_id])


class EventResource(models.Model):
    """A resource an event touched, as AWS Config would name its type."""

    event = models.ForeignKey(CloudTrailEvent, on_delete=models.CASCADE, related_name="resources")
    resource_type = models.CharField(max_length=100)
    resource_id = models.CharField(max_length=512)
    arn = models.CharField(max_length=1024, blank=True)

    class Meta:
        indexes = [models.Index(fields=["resource_id"], name="event_resource_id_idx")]
        constraints = [models.UniqueConstraint(fields=["event", "resource_type", "resource_id"],
                                               name="event_resource_unique")]
