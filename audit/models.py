"""CloudTrail events as the portal stores them: one row per eventID, with the raw record."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.models import Team
from portal.runs import BackgroundRun


class LogFileStatus(models.TextChoices):
    PENDING = "PENDING"
    INGESTING = "INGESTING"
    DONE = "DONE"
    QUARANTINED = "QUARANTINED"


class LogFile(BackgroundRun):
    """One CloudTrail log file and what became of it; a bad file is quarantined with the reason."""

    bucket = models.CharField(max_length=255)
    key = models.CharField(max_length=1024)
    account_id = models.CharField(max_length=12, blank=True, help_text=(
        "The account whose role reads the file: the one whose queue announced it (an organisation trail's central "
        "bucket is read by its own account), or the key's."))
    region = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=12, choices=LogFileStatus.choices, default=LogFileStatus.PENDING)
    reason = models.TextField(blank=True)
    last_error = None  # the reason says why
    records = models.PositiveIntegerField(default=0, help_text="Records stored from this file.")
    duplicates = models.PositiveIntegerField(default=0, help_text="Records already stored from another file.")
    portal_reads = models.PositiveIntegerField(
        null=True, blank=True, help_text="Guardrail's own read-only calls in this file, counted (PortalCallCount) and "
                                         "not stored; empty until counted, so a file read again is counted once.")
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    run_waiting = (LogFileStatus.PENDING,)  # a quarantined one is claimed again only when asked
    run_running = (LogFileStatus.INGESTING,)
    run_failed = LogFileStatus.QUARANTINED
    run_error_field = "reason"

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="logfile_unique_object")]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class QueueMessage(models.Model):
    """A message on an account's guardrail-cloudtrail queue that named no file the portal could read, kept with its
    body and why before it left the queue (shown under Events → Log files); or S3's test event, noted."""

    class Kind(models.TextChoices):
        QUARANTINED = "QUARANTINED"
        TEST_EVENT = "TEST_EVENT"

    account_id = models.CharField(max_length=12, help_text="The account whose queue it came from.")
    message_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    body = models.TextField()
    reason = models.TextField(blank=True)
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received", "-id"]
        constraints = [models.UniqueConstraint(fields=["account_id", "message_id"], name="queue_message_unique")]

    def __str__(self) -> str:
        return f"{self.kind} message {self.message_id} from {self.account_id}'s queue"


class LookupCursor(models.Model):
    """How far LookupEvents has been read in one account and region (each poll reads again from a while before)."""

    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30)
    read_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account_id", "region"], name="lookup_cursor_unique")]

    def __str__(self) -> str:
        return f"LookupEvents {self.account_id}/{self.region} read until {self.read_until:%Y-%m-%d %H:%M:%S}"


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
    by_portal = models.BooleanField(default=False, help_text="Made by Guardrail's own roles (audit.portal_calls); "
                                                             "hidden from the history unless asked for.")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    raw = models.JSONField()
    log_file = models.ForeignKey(LogFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    ingested = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=12, blank=True, help_text="EVENTBRIDGE: the first copy stored was "
                           "EventBridge's (the real-time path; a log file's copy may have completed it since); empty: "
                           "a log file, LookupEvents or an import.")
    ingest_batch = models.CharField(
        max_length=32, blank=True, editable=False,
        help_text="The insert that stored it: of two copies stored at once (EventBridge's and a log file's), the one "
                  "whose insert made the row hands it on (audit.services._store); the other only completes it.")

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


class EventMessage(models.Model):
    """A message from the real-time queue (EventBridge's copy of a CloudTrail event) that could not be stored: kept
    here with the reason and deleted from the queue, so it neither blocks the queue nor is lost."""

    message_id = models.CharField(max_length=100, blank=True)
    body = models.TextField()
    reason = models.TextField()
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received", "-id"]

    def __str__(self) -> str:
        return f"{self.message_id or 'message'}: {self.reason[:80]}"


class PortalCallCount(models.Model):
    """Guardrail's own read-only calls in one account on one day (UTC), counted at ingestion instead of stored."""

    account_id = models.CharField(max_length=12)
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)
    newest = models.DateTimeField(null=True, blank=True,
                                  help_text="The newest call counted through LookupEvents (read again from there on).")

    class Meta:
        ordering = ["-day", "account_id"]
        constraints = [models.UniqueConstraint(fields=["account_id", "day"], name="portal_call_count_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.count} portal reads"


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


# --- The configuration recorder: inventory, configuration items, relationships (AWS Config's job) ---

class ItemStatus(models.TextChoices):
    DISCOVERED = "ResourceDiscovered"
    OK = "OK"
    DELETED = "ResourceDeleted"


class ChangeType(models.TextChoices):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class ConfigResource(models.Model):
    """One AWS resource the recorder knows, with its latest configuration (the newest item's copy)."""

    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30, help_text='"global" for IAM, as AWS Config says.')
    resource_type = models.CharField(max_length=100)
    resource_id = models.CharField(max_length=512)
    arn = models.CharField(max_length=1024, blank=True)
    name = models.CharField(max_length=512, blank=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=ItemStatus.choices)
    state_id = models.PositiveIntegerField(default=0, help_text="The newest item's configurationStateId.")
    configuration = models.JSONField(default=dict)
    supplementary = models.JSONField(default=dict)
    tags = models.JSONField(default=dict)
    relationships = models.JSONField(default=list)
    content_hash = models.CharField(max_length=64, blank=True)
    compliance = models.CharField(max_length=20, blank=True, help_text="Filled by the rules (a later issue).")
    created = models.DateTimeField(null=True, blank=True, help_text="resourceCreationTime, when AWS says.")
    first_seen = models.DateTimeField()
    last_changed = models.DateTimeField()
    last_captured = models.DateTimeField()

    class Meta:
        ordering = ["resource_type", "resource_id"]
        constraints = [models.UniqueConstraint(fields=["account_id", "region", "resource_type", "resource_id"],
                                               name="config_resource_unique")]
        indexes = [
            models.Index(fields=["resource_id"], name="config_resource_id_idx"),
            models.Index(fields=["resource_type", "account_id"], name="config_resource_type_idx"),
            models.Index(fields=["team", "resource_type"], name="config_resource_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id}"

    @property
    def deleted(self) -> bool:
        return self.status == ItemStatus.DELETED

    @property
    def label(self) -> str:
        return self.name if self.name and self.name != self.resource_id else self.resource_id

    def get_absolute_url(self) -> str:
        return reverse("audit:resource-detail", args=[self.pk])


class ConfigurationItem(models.Model):
    """A recorded state of a resource, as AWS Config shapes it, with its diff from the item before."""

    resource = models.ForeignKey(ConfigResource, on_delete=models.CASCADE, related_name="items")
    state_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=ItemStatus.choices)
    change_type = models.CharField(max_length=10, choices=ChangeType.choices)
    capture_time = models.DateTimeField()
    configuration = models.JSONField(default=dict)
    supplementary = models.JSONField(default=dict)
    tags = models.JSONField(default=dict)
    relationships = models.JSONField(default=list)
    content_hash = models.CharField(max_length=64)
    diff = models.JSONField(default=list, help_text="[{path, change_type, before, after}] from the item before.")
    cause = models.CharField(max_length=20, help_text="EVENT (a CloudTrail event touched it), SCAN or AWS_CONFIG.")

    class Meta:
        ordering = ["-capture_time", "-state_id"]
        constraints = [models.UniqueConstraint(fields=["resource", "state_id"], name="config_item_unique_state")]
        indexes = [models.Index(fields=["resource", "-capture_time"], name="config_item_time_idx")]

    def __str__(self) -> str:
        return f"{self.resource} #{self.state_id} {self.status}"


class ResourceRelationship(models.Model):
    """A current relationship of a resource (from its newest item), kept as rows to answer the reverse question."""

    resource = models.ForeignKey(ConfigResource, on_delete=models.CASCADE, related_name="related")
    name = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=512)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "name", "target_type", "target_id"],
                                               name="config_relationship_unique")]
        indexes = [models.Index(fields=["target_id", "target_type"], name="config_relationship_target_idx")]


class RecorderState(models.Model):
    """Recording on or off in one account and region, mirrored from the account's own Config recorder."""

    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, related_name="recorder_states")
    region = models.CharField(max_length=30)
    recording = models.BooleanField(null=True, help_text="None until first checked.")
    recorder_name = models.CharField(max_length=256, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    checked = models.DateTimeField(null=True, blank=True)
    changed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account__account_id", "region"]
        constraints = [models.UniqueConstraint(fields=["account", "region"], name="recorder_state_unique")]


class RunStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RecorderRun(BackgroundRun):
    """One background run of the recorder: a full scan of an account, or the snapshots a batch of events asked for."""

    class Kind(models.TextChoices):
        SCAN = "SCAN"
        EVENTS = "EVENTS"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, related_name="recorder_runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    event_ids = models.JSONField(default=list, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    claimed = None  # started
    last_error = None  # error

    run_claimed_field = "started"
    run_error_field = "error"

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "kind"], name="recorder_run_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.account.account_id} {self.status}"

    @property
    def seconds(self) -> float | None:
        return (self.finished - self.started).total_seconds() if self.finished and self.started else None


class EventHandoff(BackgroundRun):
    """New events handed on to one consumer (a Celery task by name): written in the same transaction as the events,
    so a lost message or a worker stopped mid-file loses nothing; the consumer claims it, marks it done, and
    the reconciler sends what waits too long again (consumers are safe to run twice on the same events)."""

    consumer = models.CharField(max_length=100)
    event_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "updated"], name="event_handoff_status_idx")]

    def __str__(self) -> str:
        return f"{self.consumer} {len(self.event_ids)} events {self.status}"
