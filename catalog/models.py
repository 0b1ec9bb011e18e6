"""The portal's own Service Catalog: portfolios, products, versions, constraints and access grants."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from portal.changelog.records import ChangeRecords

from portal.models import Team
from portal.runs import BackgroundRun


class Portfolio(models.Model):
    """A collection of products granted to teams, with an owner and a support contact."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=100, blank=True, help_text="Who runs this portfolio, e.g. 'Cloud platform team'.")
    support_contact = models.CharField(max_length=200, blank=True, help_text="Email or channel for help.")
    teams = models.ManyToManyField(Team, related_name="portfolios", blank=True,
                                   help_text="Teams whose developers may launch its products.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    history = ChangeRecords(m2m_fields=[teams])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:portfolio-detail", args=[self.pk])


class Product(models.Model):
    """Something developers launch: a CloudFormation template in versions, with support information."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=100, blank=True)
    support_email = models.EmailField(blank=True)
    support_url = models.URLField(blank=True)
    support_description = models.TextField(blank=True, help_text="What developers should do when a launch breaks.")
    portfolios = models.ManyToManyField(Portfolio, related_name="products", blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    history = ChangeRecords(m2m_fields=[portfolios])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product-detail", args=[self.pk])


class TemplateDocument(models.Model):
    """A template's exact text, stored once per content hash and never changed, with its analysis."""

    content_hash = models.CharField(max_length=64, unique=True)
    body = models.TextField()
    format = models.CharField(max_length=4)
    analysis = models.JSONField(help_text="Parameters, warnings, resources, outputs, rules (catalog.cfn.analysis).")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"template {self.content_hash[:12]}"


class Guidance(models.TextChoices):
    DEFAULT = "DEFAULT", "Default"
    DEPRECATED = "DEPRECATED", "Deprecated (no new launches)"
    INACTIVE = "INACTIVE", "Inactive (hidden)"


class ProductVersion(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    guidance = models.CharField(max_length=10, choices=Guidance.choices, default=Guidance.DEFAULT)
    document = models.ForeignKey(TemplateDocument, on_delete=models.PROTECT, related_name="versions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    history = ChangeRecords()

    class Meta:
        ordering = ["product", "-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="version_name_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.product.name} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:version-detail", args=[self.pk])

    @property
    def parameters(self) -> list[dict]:
        return self.document.analysis.get("parameters", [])


class ConstraintType(models.TextChoices):
    LAUNCH = "LAUNCH", "Launch role"
    TEMPLATE = "TEMPLATE", "Template rules"
    PARAMETER = "PARAMETER", "Parameter value"
    TAG = "TAG", "Tag"
    NOTIFICATION = "NOTIFICATION", "Notification"
    TARGET = "TARGET", "Launch target (accounts, regions)"


class Constraint(models.Model):
    """A rule on launching a product; with a portfolio it applies only to launches through that portfolio."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="constraints")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="constraints")
    type = models.CharField(max_length=12, choices=ConstraintType.choices)
    definition = models.JSONField()
    description = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    history = ChangeRecords()

    class Meta:
        ordering = ["product", "type", "id"]

    def __str__(self) -> str:
        return f"{self.get_type_display()} on {self.product.name}"

    @property
    def summary(self) -> str:
        d = self.definition
        match self.type:
            case ConstraintType.LAUNCH:
                if d.get("local_role_name"):
                    return f"launch as {d['local_role_name']} in the launch's account"
                return f"launch as {d.get('role_arn')}"
            case ConstraintType.TEMPLATE:
                return ", ".join(d.get("Rules", {})) or "rules"
            case ConstraintType.PARAMETER:
                parts = [f"{d.get('key')}"]
                if "value" in d:
                    parts.append(f"= {d['value']}{' (locked)' if d.get('locked') else ''}")
                if d.get("hidden_values"):
                    parts.append(f"hides {', '.join(d['hidden_values'])}")
                return " ".join(parts)
            case ConstraintType.TAG:
                return f"{d.get('key')} = {d.get('value')}{' (locked)' if d.get('locked') else ''}"
            case ConstraintType.NOTIFICATION:
                return ", ".join(d.get("emails", []) + d.get("sns_topic_arns", []))
            case ConstraintType.TARGET:
                parts = [f"{name} {', '.join(d[key])}" for key, name in
                         (("account_ids", "accounts"), ("regions", "regions")) if d.get(key)]
                return "only " + "; ".join(parts)
        return ""


class LaunchStatus(models.TextChoices):
    CREATED = "CREATED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


class LaunchRequest(BackgroundRun):
    """A provisioned product: one stack launched by a developer, and its life."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="launches")
    version = models.ForeignKey(ProductVersion, on_delete=models.PROTECT, related_name="launches")
    name = models.CharField(max_length=128)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="launches")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="launches")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30)
    status = models.CharField(max_length=12, choices=LaunchStatus.choices, default=LaunchStatus.CREATED)
    status_reason = models.TextField(blank=True)
    last_error = None  # status_reason says why

    # Claimed step by step through launch_transition; the reconciler hands a stuck one out by its clock.
    run_waiting = (LaunchStatus.CREATED,)
    run_running = (LaunchStatus.IN_PROGRESS, LaunchStatus.TERMINATING)
    run_failed = LaunchStatus.FAILED
    run_error_field = "status_reason"
    parameters = models.JSONField(default=dict, help_text="Values as launched; NoEcho values are never here.")
    secrets = models.TextField(blank=True, help_text="NoEcho values, encrypted (catalog.noecho).")
    tags = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict)
    stack_resources = models.JSONField(default=list, help_text="The stack's resources, noted before deletion.")
    guardrail_fixes = models.JSONField(default=list, blank=True,
                                       help_text="Secure defaults the rules applied to the template, in plain words.")
    template_override = models.TextField(blank=True, help_text="The template as launched, when secure defaults "
                                                               "changed the version's template.")
    pending_update = models.JSONField(null=True, blank=True,
                                      help_text="{version, parameters, secrets (encrypted)} while an update runs.")
    launch_role_arn = models.CharField(max_length=300)
    stack_id = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "idempotency_key"], name="launch_idempotent_per_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.product.name})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:launch-detail", args=[self.pk])

    @property
    def stack_name(self) -> str:
        return f"{self.name}-{self.pk}"

    @property
    def is_terminal(self) -> bool:
        return self.status in {LaunchStatus.SUCCEEDED, LaunchStatus.FAILED, LaunchStatus.TERMINATED}

    @property
    def kept_resources(self) -> list[dict]:
        """What the stack's delete kept in the account (the template's DeletionPolicy), noted when it ended."""
        return [r for r in self.stack_resources or [] if r.get("kept")]


class LaunchTransition(models.Model):
    """Append-only: every status change of a launch, with why and when."""

    launch = models.ForeignKey(LaunchRequest, on_delete=models.CASCADE, related_name="transitions")
    old_status = models.CharField(max_length=12, blank=True)
    new_status = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]


class DriftStatus(models.TextChoices):
    """CloudFormation's StackDriftStatus (API Reference, DescribeStackDriftDetectionStatus)."""

    DRIFTED = "DRIFTED"
    IN_SYNC = "IN_SYNC"
    NOT_CHECKED = "NOT_CHECKED"
    UNKNOWN = "UNKNOWN"


class DriftCheck(BackgroundRun):
    """One drift detection of a launch's stack (periodic or asked for), a background run: waiting, running, done.
    `resources` holds what CloudFormation said of each checked resource: [{logical_id, physical_id, type, status,
    differences: [{path, expected, actual, kind}]}]."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    launch = models.ForeignKey(LaunchRequest, on_delete=models.CASCADE, related_name="drift_checks")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    stack_drift_status = models.CharField(max_length=12, choices=DriftStatus.choices, blank=True)
    drifted_count = models.PositiveIntegerField(default=0)
    resources = models.JSONField(default=list, blank=True)
    signature = models.CharField(max_length=64, blank=True, help_text="What drifted (hash): told once per drift.")
    notified = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["launch", "status"], name="drift_check_launch_idx")]

    def __str__(self) -> str:
        return f"drift of launch {self.launch_id}: {self.stack_drift_status or self.status}"
