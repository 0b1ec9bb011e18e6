"""Triage: signatures over enriched CloudTrail events (kept here, versioned, with their own tests), the hits they
make and the alerts those raise (deduplicated by fingerprint, with a status people change)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from portal.changelog.records import ChangeRecords

from portal.models import Team
from portal.runs import BackgroundRun


class Severity(models.TextChoices):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Signature(models.Model):
    """A pattern (EventBridge syntax) plus conditions over the enriched event, with a severity, tags and an action
    chain. STAGING records hits but alerts nobody; ACTIVE alerts; OFF does nothing."""

    class Status(models.TextChoices):
        OFF = "OFF", "Off"
        STAGING = "STAGING", "Staging (hits counted, nobody alerted)"
        ACTIVE = "ACTIVE", "Active"

    name = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    pattern = models.JSONField(help_text="EventBridge syntax over the CloudTrail event.")
    conditions = models.JSONField(default=dict, blank=True, help_text="teams, mfa, outside_allowed_regions, hours, "
                                                                      "other_user, threshold {count, minutes, by}.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    tags = models.JSONField(default=list, blank=True, help_text='["attack:T1562.008", "hipaa:164.312(b)"]')
    actions = models.JSONField(default=list, blank=True, help_text='[{"action": "alert"}, {"action": "ticket"}, '
                                                                   '{"action": "start_config_recorder"}]')
    dedup_minutes = models.PositiveIntegerField(default=60, help_text="Hits with the same fingerprint within this "
                                                                      "many minutes are one alert.")
    tests = models.JSONField(default=dict, blank=True, help_text='{"positive": [event, ...], "negative": [...]}')
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.STAGING)
    builtin = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    staged_since = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    history = ChangeRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("triage:signature-detail", args=[self.name])


class SignatureHit(models.Model):
    """One event a signature matched (staged or live): the hit statistics, thresholds and the dry runs read these."""

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="hits")
    version = models.PositiveIntegerField()
    event_id = models.CharField(max_length=64)
    time = models.DateTimeField(help_text="The event's time.")
    key = models.CharField(max_length=300, blank=True, help_text="The threshold's grouping value (identity ...).")
    staged = models.BooleanField(default=False)
    alert = models.ForeignKey("Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="hits")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-time"]
        constraints = [models.UniqueConstraint(fields=["signature", "event_id"], name="signature_hit_once")]
        indexes = [models.Index(fields=["signature", "key", "-time"], name="signature_hit_key_idx"),
                   models.Index(fields=["signature", "-time"], name="signature_hit_time_idx")]


class AlertStatus(models.TextChoices):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"


class Alert(models.Model):
    """One alert per fingerprint while it is open: a counter, first and last seen, the events, who it concerns."""

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=64)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=300)
    account_id = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=30, blank=True)
    identity = models.CharField(max_length=300, blank=True, help_text="Who: the user name or the identity's ARN.")
    resource_type = models.CharField(max_length=100, blank=True)
    resource_id = models.CharField(max_length=512, blank=True)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    owner = models.CharField(max_length=200, blank=True, help_text="The resource's owner (tag) or the person.")
    event_ids = models.JSONField(default=list, help_text="The newest 100 events.")
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    status_changed = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                          related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    history = ChangeRecords(excluded_fields=["event_ids", "count", "last_seen"])

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [models.UniqueConstraint(fields=["fingerprint"], condition=~Q(status="RESOLVED"),
                                               name="alert_one_open_per_fingerprint")]
        indexes = [models.Index(fields=["fingerprint", "-last_seen"], name="alert_fingerprint_idx"),
                   models.Index(fields=["status", "-last_seen"], name="alert_status_idx"),
                   models.Index(fields=["resource_id"], name="alert_resource_idx")]

    def __str__(self) -> str:
        return f"{self.signature.name}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("triage:alert-detail", args=[self.pk])


class Ticket(models.Model):
    """The one ticket of an alert fingerprint in a ticket system, and how the last attempt went."""

    fingerprint = models.CharField(max_length=64)
    system = models.CharField(max_length=10, help_text="jira or github")
    key = models.CharField(max_length=100, blank=True, help_text="SEC-12, or the issue number.")
    url = models.URLField(max_length=500, blank=True)
    state = models.CharField(max_length=10, blank=True, help_text="open or closed, as last seen.")
    last_step = models.CharField(max_length=10, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last success.")
    alert = models.ForeignKey(Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    commented = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fingerprint", "system"], name="ticket_one_per_fingerprint")]

    def __str__(self) -> str:
        return f"{self.system} {self.key or '(not created)'}"


# --- org context: who and which department, kept current ---

class OrgAccount(models.Model):
    """An account as AWS Organizations (or a CSV import) describes it: its OU path and tags."""

    account_id = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=20, blank=True)
    ou_path = models.CharField(max_length=500, blank=True, help_text="Root/Workloads/Prod")
    tags = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, help_text="organizations or csv")
    synced = models.DateTimeField()

    class Meta:
        ordering = ["name", "account_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"


class Principal(models.Model):
    """An IAM user or role with its tags: the team (department) and owner an event's identity belongs to."""

    account_id = models.CharField(max_length=12)
    arn = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=10, help_text="user or role")
    name = models.CharField(max_length=200)
    tags = models.JSONField(default=dict, blank=True)
    team = models.CharField(max_length=100, blank=True, help_text="From the team (or department) tag.")
    owner_email = models.CharField(max_length=254, blank=True, help_text="From the owner (or owner-email) tag.")
    source = models.CharField(max_length=20, help_text="iam or csv")
    synced = models.DateTimeField()

    class Meta:
        ordering = ["account_id", "kind", "name"]
        indexes = [models.Index(fields=["account_id", "name"], name="principal_account_name_idx")]

    def __str__(self) -> str:
        return self.arn


class OrgSync(models.Model):
    """One sync of one source (organizations, iam, csv): when, how it went, what changed."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    source = models.CharField(max_length=20)
    trigger = models.CharField(max_length=100, help_text="periodic, an event name, by hand, an upload.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    changes = models.JSONField(default=list, blank=True, help_text="[{what, field, before, after}] (first 200)")
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started", "-id"]


class Alarm(models.Model):
    """A threshold on a portal metric, as a CloudWatch alarm: OK, ALARM or INSUFFICIENT_DATA; people are told
    when it is crossed and when it clears."""

    class Metric(models.TextChoices):
        NON_COMPLIANT = "non_compliant_resources", "Non-compliant resources (not excepted)"
        ALERTS_HOUR = "alerts_per_hour", "New alerts in the last hour"
        OPEN_ALERTS = "open_alerts", "Open alerts"
        INGEST_LAG = "ingest_lag_seconds", "Ingest lag (s): event time to stored, median of the last 5 minutes"

    class Comparison(models.TextChoices):
        GT = "GT", ">"
        GTE = "GTE", "≥"
        LT = "LT", "<"
        LTE = "LTE", "≤"

    class State(models.TextChoices):
        OK = "OK"
        ALARM = "ALARM"
        INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

    name = models.SlugField(max_length=100, unique=True)
    metric = models.CharField(max_length=30, choices=Metric.choices)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             help_text="Blank: every team.")
    comparison = models.CharField(max_length=3, choices=Comparison.choices, default=Comparison.GT)
    threshold = models.FloatField()
    state = models.CharField(max_length=17, choices=State.choices, default=State.INSUFFICIENT_DATA)
    value = models.FloatField(null=True, blank=True)
    evaluated = models.DateTimeField(null=True, blank=True)
    state_changed = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    history = ChangeRecords(excluded_fields=["value", "evaluated"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- VPC flow logs: the files read, what the detector found in them, the threat lists it checks ---

class FlowLogFile(BackgroundRun):
    """One flow-log file in S3 and what became of it; a file that cannot be read is quarantined with the reason."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        INGESTING = "INGESTING"
        DONE = "DONE"
        QUARANTINED = "QUARANTINED"

    bucket = models.CharField(max_length=255)
    key = models.CharField(max_length=1024)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30)
    flow_log_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    records = models.PositiveIntegerField(default=0, help_text="Records with traffic (log-status OK).")
    skipped = models.PositiveIntegerField(default=0, help_text="NODATA and SKIPDATA rows.")
    malformed = models.PositiveIntegerField(default=0)
    detections = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_error = None  # the reason says why

    run_waiting = (Status.PENDING,)  # a quarantined one is claimed again only when asked
    run_running = (Status.INGESTING,)
    run_failed = Status.QUARANTINED
    run_error_field = "reason"

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="flowlogfile_unique_object")]
        indexes = [models.Index(fields=["status", "updated"], name="flowlogfile_status_idx")]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


FLOW_KINDS = {"port_scan": "Port scan", "brute_force": "Brute force", "reject_spike": "REJECT spike",
              "threat_list": "Threat-list traffic", "disallowed_port": "Port the security groups do not allow"}


class FlowDetection(models.Model):
    """A finding in one file (port scan, brute force, REJECT spike, threat list, disallowed port): the same
    activity found again carries the same fingerprint; the flow-log signatures turn it into an alert."""

    file = models.ForeignKey(FlowLogFile, on_delete=models.CASCADE, related_name="found")
    kind = models.CharField(max_length=20)
    source = models.CharField(max_length=45, help_text="The source address (for a threat list: the listed one).")
    target = models.CharField(max_length=45, blank=True, help_text="Blank when there were many.")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30)
    first = models.DateTimeField()
    last = models.DateTimeField()
    count = models.PositiveIntegerField()
    evidence = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=100, blank=True)
    resource_id = models.CharField(max_length=512, blank=True)
    alert = models.ForeignKey(Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="detections")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-first", "-id"]
        constraints = [models.UniqueConstraint(fields=["file", "fingerprint"], name="flowdetection_once_per_file")]
        indexes = [models.Index(fields=["account_id", "-first"], name="flowdetection_account_idx")]

    def __str__(self) -> str:
        return f"{self.kind} from {self.source}"

    @property
    def label(self) -> str:
        return FLOW_KINDS.get(self.kind, self.kind)

    def evidence_items(self) -> list[tuple[str, str]]:
        """The evidence as (name, text) for a page: lists joined."""
        return [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in self.evidence.items()]


class ThreatList(models.Model):
    """Addresses and networks whose traffic is reported: uploaded, or fetched from a URL every few hours."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        URL = "url", "Fetched from a URL"

    name = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.UPLOAD)
    url = models.URLField(max_length=500, blank=True)
    refresh_hours = models.PositiveIntegerField(default=24, help_text="How often a URL list is fetched again.")
    entries = models.TextField(blank=True, help_text="One address or CIDR a line, as last uploaded or fetched.")
    entry_count = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    fetched = models.DateTimeField(null=True, blank=True)
    fetch_error = models.CharField(max_length=500, blank=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    history = ChangeRecords(excluded_fields=["entries"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("triage:threat-list-detail", args=[self.name])
