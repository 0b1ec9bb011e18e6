"""Rules and what they found: compliance findings with their history, exceptions, and the trend over time."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from portal.changelog.records import ChangeRecords

from portal.models import Team
from portal.runs import BackgroundRun


class Compliance(models.TextChoices):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class Rule(models.Model):
    """A rule as the portal runs it: a managed rule with parameters, a declarative filter, or a Python plug-in."""

    class Kind(models.TextChoices):
        MANAGED = "MANAGED", "Managed (AWS's name and meaning)"
        DECLARATIVE = "DECLARATIVE", "Declarative filter"
        PLUGIN = "PLUGIN", "Python plug-in (entry point)"

    class AtLaunch(models.TextChoices):
        IGNORE = "IGNORE", "Not checked at launch"
        BLOCK = "BLOCK", "Block a launch that would break it"
        FIX = "FIX", "Apply the secure default where one exists, else block"

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    source = models.CharField(max_length=100, blank=True,
                              help_text="The managed rule's name, or the plug-in's entry point name.")
    description = models.TextField(blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    definition = models.JSONField(default=dict, blank=True, help_text="The declarative filter.")
    enabled = models.BooleanField(default=True)
    at_launch = models.CharField(max_length=8, choices=AtLaunch.choices, default=AtLaunch.IGNORE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    history = ChangeRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("remediation:rule-detail", args=[self.name])


class Finding(models.Model):
    """One rule's verdict on one resource (or on an account, for account-level rules), kept with its history."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="findings")
    config_resource = models.ForeignKey("audit.ConfigResource", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="findings")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30, blank=True)
    resource_type = models.CharField(max_length=100)
    resource_id = models.CharField(max_length=512)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=Compliance.choices)
    annotation = models.CharField(max_length=500, blank=True)
    excepted_by = models.ForeignKey("RuleException", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="findings")
    since = models.DateTimeField(help_text="When the current status began.")
    first_seen = models.DateTimeField(null=True, blank=True, help_text="First time it was ever NON_COMPLIANT.")
    last_seen = models.DateTimeField(null=True, blank=True, help_text="Last evaluation that found it NON_COMPLIANT.")
    resolved = models.DateTimeField(null=True, blank=True, help_text="When it last became compliant again.")
    evaluated = models.DateTimeField()
    state_id = models.PositiveIntegerField(null=True, blank=True, help_text="The configuration item evaluated.")

    class Meta:
        ordering = ["rule__name", "resource_type", "resource_id"]
        constraints = [models.UniqueConstraint(fields=["rule", "account_id", "region", "resource_type", "resource_id"],
                                               name="finding_unique_subject")]
        indexes = [
            models.Index(fields=["status", "rule"], name="finding_status_rule_idx"),
            models.Index(fields=["account_id", "status"], name="finding_account_status_idx"),
            models.Index(fields=["resource_id"], name="finding_resource_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.name} {self.resource_id}: {self.status}"

    @property
    def excepted(self) -> bool:
        return self.excepted_by_id is not None and self.excepted_by.active


class FindingChange(models.Model):
    """Each change of a finding's status: the compliance entries of the resource timeline."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="changes")
    time = models.DateTimeField(default=timezone.now)
    before = models.CharField(max_length=20, blank=True)
    after = models.CharField(max_length=20)
    annotation = models.CharField(max_length=500, blank=True)
    state_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["finding", "-time"], name="finding_change_time_idx")]


class RuleException(models.Model):
    """An admin's decision that a rule does not apply to something, with a reason and an expiry."""

    class Scope(models.TextChoices):
        RESOURCE = "RESOURCE", "A resource (its id)"
        TAG = "TAG", "Resources with a tag (key=value)"
        ACCOUNT = "ACCOUNT", "An account"
        TEAM = "TEAM", "A team's accounts"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, null=True, blank=True, related_name="exceptions",
                             help_text="Blank: every rule.")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    value = models.CharField(max_length=512, help_text="The resource id, key=value, account id or team slug.")
    reason = models.TextField()
    expires = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    history = ChangeRecords()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.rule or 'every rule'}: {self.get_scope_display()} {self.value}"

    @property
    def active(self) -> bool:
        return self.expires > timezone.now()


class ComplianceSample(models.Model):
    """Counts per rule at a moment, for the trend chart."""

    time = models.DateTimeField(db_index=True)
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="samples")
    compliant = models.PositiveIntegerField(default=0)
    non_compliant = models.PositiveIntegerField(default=0)
    excepted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["time"]


# --- Remediation: policies (rule or event pattern -> actions) and every action they take ---

class PolicyMode(models.TextChoices):
    OFF = "off"
    DRY_RUN = "dry_run"
    ENFORCE = "enforce"


class Policy(models.Model):
    """When a rule finds a resource non-compliant, or an event matches a pattern: run these actions, in order."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, null=True, blank=True, related_name="policies")
    event_pattern = models.JSONField(null=True, blank=True, help_text="EventBridge syntax, over CloudTrail events.")
    actions = models.JSONField(default=list, help_text='[{"action": "revoke_world_ingress", "details": {...}}, ...]')
    mode = models.CharField(max_length=8, choices=PolicyMode.choices, default=PolicyMode.DRY_RUN)
    scope = models.JSONField(default=dict, blank=True, help_text='{"accounts": [...], "teams": [...], "tags": {k: v}}')
    max_resources = models.PositiveIntegerField(default=10, help_text="Blast radius: at most this many per hour.")
    version = models.PositiveIntegerField(default=1)
    updated = models.DateTimeField(auto_now=True)
    history = ChangeRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class ActionStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    DRY_RUN = "DRY_RUN", "Dry run (nothing changed)"
    HELD = "HELD", "Held (blast radius)"


class ActionRun(BackgroundRun):
    """One action a policy took (or, in dry_run, would have taken) on one resource: the plan, then the outcome."""

    policy = models.ForeignKey(Policy, on_delete=models.SET_NULL, null=True, related_name="runs")
    policy_version = models.PositiveIntegerField()
    mode = models.CharField(max_length=8, choices=PolicyMode.choices)
    action = models.CharField(max_length=50)
    step = models.PositiveSmallIntegerField(default=0, help_text="Its place in the policy's chain.")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30, blank=True)
    resource_type = models.CharField(max_length=100)
    resource_id = models.CharField(max_length=512)
    target = models.JSONField(default=dict)
    reason = models.CharField(max_length=500, help_text="Why: the finding's annotation or the event.")
    finding = models.ForeignKey(Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    event_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=300, unique=True, help_text="The same trigger twice is one run.")
    status = models.CharField(max_length=10, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    plan = models.JSONField(default=dict, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    dry_run = models.ForeignKey("DryRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="applied_runs",
                                help_text="The approved dry-run report whose plan this run carries out.")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True, help_text="When a worker claimed it (RUNNING since).")
    finished = models.DateTimeField(null=True, blank=True)
    claimed = None  # started

    run_claimed_field = "started"

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["resource_id", "-created"], name="action_run_resource_idx"),
                   models.Index(fields=["policy", "-created"], name="action_run_policy_idx")]

    def __str__(self) -> str:
        return f"{self.action} on {self.resource_id}: {self.status}"


class DryRun(BackgroundRun):
    """Policies (drafts or active) and signatures (stored or drafts) run over a past window of stored events and
    configuration items: every action the policies would have taken, how that differs from what the active
    versions did, and the compliance it would have produced; the alerts the signatures would have raised against
    those they did. Nothing in any account changes; an admin may approve the report and apply it as a plan."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    policies = models.ManyToManyField(Policy, related_name="dry_runs")
    snapshot = models.JSONField(default=list, help_text="Each policy as it was when the dry run was asked for.")
    signatures = models.JSONField(default=list, blank=True, help_text="Each signature as it was asked for (stored, "
                                                                      "any status, or a draft not saved yet).")
    since = models.DateTimeField()
    until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.JSONField(default=dict, blank=True, help_text="{events, items, actions, signature_events} looked "
                                                                     "at so far.")
    report = models.JSONField(default=dict, blank=True)
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
    applied = models.DateTimeField(null=True, blank=True, help_text="When an admin approved it and applied the plan.")
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"Dry run {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("remediation:dry-run-detail", args=[self.pk])

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
