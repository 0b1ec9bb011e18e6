from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from simple_history import register

from portal.changelog.records import ChangeRecords

account_id_validator = RegexValidator(r"^\d{12}$", "An AWS account id is exactly 12 digits.")


class Team(models.Model):
    """A department: its members launch into its accounts and own what they launch."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created = models.DateTimeField(auto_now_add=True)
    history = ChangeRecords(m2m_fields=[members])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("team-detail", args=[self.slug])


class Account(models.Model):
    """An AWS account the portal works in, owned by one team."""

    account_id = models.CharField(max_length=12, unique=True, validators=[account_id_validator])
    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="accounts")
    allowed_regions = models.JSONField(default=list, help_text="Regions where resources may live.")
    role_name = models.CharField(
        max_length=64, blank=True, help_text="Role the portal assumes in this account; blank for the default."
    )
    cloudtrail_source = models.CharField(
        max_length=14, choices=[("S3", "Log files in S3 (notified through SQS)"),
                                ("LOOKUP_EVENTS", "LookupEvents (no access to the log bucket)")],
        default="S3", help_text="How the portal reads this account's CloudTrail events.")
    config_source = models.CharField(
        max_length=10, choices=[("PORTAL", "The portal's own recorder (describe calls)"),
                                ("AWS_CONFIG", "AWS Config's configuration items (Config enabled in the account)")],
        default="PORTAL", help_text="Where the inventory and configuration history of this account come from.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    history = ChangeRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    def get_absolute_url(self) -> str:
        return reverse("account-detail", args=[self.account_id])

    @property
    def portal_role_name(self) -> str:
        return self.role_name or settings.AWS_PORTAL_ROLE_NAME


class Heartbeat(models.Model):
    """The last time a background process said it was alive (the worker's beat task)."""

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An in-app message to one person (launch finished, remediation applied, ...)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    level = models.CharField(max_length=10, default="info")
    read = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.subject


# People and their roles are edited in the site admin: their history lives here (never the password).
register(User, app="portal", records_class=ChangeRecords, excluded_fields=["password", "last_login"],
         m2m_fields=["groups"])
