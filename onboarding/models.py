from django.conf import settings
from django.db import models

from portal.models import Account, Team
from portal.runs import BackgroundRun


class ConnectionCheck(BackgroundRun):
    """One connection check of one account: each role assumed, each permission and piece probed, one line each."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        PASSED = "PASSED"
        FAILED = "FAILED"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="connection_checks")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    lines = models.JSONField(default=list, blank=True,
                             help_text="[{key, title, status: passed|failed|waiting, detail, fix}] in check order.")
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    run_failed = Status.FAILED

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["account", "-created"], name="check_account_created_idx")]

    def __str__(self) -> str:
        return f"check {self.account.account_id} {self.status}"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.PASSED, self.Status.FAILED)

    @property
    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "waiting": 0}
        for line in self.lines:
            out[line.get("status", "failed")] = out.get(line.get("status", "failed"), 0) + 1
        return out


class OnboardingRule(models.Model):
    """Accounts found in AWS Organizations go to a team by their OU or a tag; the first matching rule wins."""

    class Kind(models.TextChoices):
        OU = "OU", "OU path starts with"
        TAG = "TAG", "Tag equals (key=value)"

    kind = models.CharField(max_length=3, choices=Kind.choices)
    match = models.CharField(max_length=300, help_text="Root/Workloads/Prod, or team=payments")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="onboarding_rules")
    position = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "match"], name="onboarding_rule_unique_match")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.match} → {self.team}"

    def matches(self, *, ou_path: str, tags: dict[str, str]) -> bool:
        if self.kind == self.Kind.OU:
            wanted = self.match.strip("/")
            return ou_path == wanted or ou_path.startswith(wanted + "/")
        key, _, value = self.match.partition("=")
        return tags.get(key.strip()) == value.strip()


def rule_team(rules: list[OnboardingRule], *, ou_path: str, tags: dict[str, str]) -> Team | None:
    """The team of the first rule that matches, or None."""
    return next((rule.team for rule in rules if rule.matches(ou_path=ou_path, tags=tags)), None)
