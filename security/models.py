"""The security audit log (sign-ins, sign-outs, refusals, admins' writes, API tokens made and revoked; never a body or a
secret) and what people know of their API tokens (TokenDetails: the token itself is knox's, stored hashed)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.changelog.records import ChangeRecords


class AuditEntry(models.Model):
    class Kind(models.TextChoices):
        LOGIN = "LOGIN", "Signed in"
        LOGIN_FAILED = "LOGIN_FAILED", "Sign-in failed"
        LOGIN_REFUSED = "LOGIN_REFUSED", "Sign-in refused (locked out)"
        USER_LOCKED = "USER_LOCKED", "Username locked out"
        IP_LOCKED = "IP_LOCKED", "Address locked out"
        LOGOUT = "LOGOUT", "Signed out"
        DENIED = "DENIED", "Permission denied"
        ADMIN_WRITE = "ADMIN_WRITE", "Admin change"
        TOKEN_CREATED = "TOKEN_CREATED", "API token created"
        TOKEN_REVOKED = "TOKEN_REVOKED", "API token revoked"
        LOGIN_SSO = "LOGIN_SSO", "Signed in (single sign-on)"
        SSO_REFUSED = "SSO_REFUSED", "Single sign-on refused"
        MAPPING_CHANGED = "MAPPING_CHANGED", "Group mapping changed"

    time = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    username = models.CharField(max_length=150, blank=True, help_text="As typed at sign-in, or the user's name.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True, help_text="Without the query string.")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["kind", "username", "time"], name="audit_kind_username_idx"),
                   models.Index(fields=["kind", "ip", "time"], name="audit_kind_ip_idx")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.kind} {self.username or '-'}"


class TokenDetails(models.Model):
    """A knox API token's name, scope and last use. The token is stored only as knox's digest; its first characters
    (knox's token_key) name it in lists. Deleting the token (revoke, or knox on using an expired one) deletes this."""

    class Scope(models.TextChoices):
        READ = "read", "Read-only"
        WRITE = "write", "Read-write"

    token = models.OneToOneField(settings.KNOX_TOKEN_MODEL, on_delete=models.CASCADE, related_name="details")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.WRITE)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "token details"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_scope_display()})"


class GroupMapping(models.Model):
    """One rule of single sign-on: people in the provider's group `idp_group` get `role`, or are members of `team`.
    Exactly one of the two is set. Applied at every sign-in (security.sso)."""

    idp_group = models.CharField(max_length=200, help_text="The group's name (or id) as the provider sends it.")
    role = models.CharField(max_length=20, blank=True, choices=[("Admin", "Admin"), ("Developer", "Developer"),
                                                                 ("Auditor", "Auditor")])
    team = models.ForeignKey("portal.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    history = ChangeRecords()  # who added or removed each rule, in the change log (admins and auditors)

    class Meta:
        ordering = ["idp_group", "role", "team__name"]
        constraints = [
            models.CheckConstraint(condition=(models.Q(role="") & models.Q(team__isnull=False))
                                   | (~models.Q(role="") & models.Q(team__isnull=True)), name="mapping_role_xor_team"),
            models.UniqueConstraint(fields=["idp_group", "role", "team"], name="mapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.idp_group} → {self.role or self.team}"


class SsoIdentity(models.Model):
    """The person a provider's subject (`sub`) signs in as: made at their first single sign-on."""

    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "single sign-on identities"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")]

    def __str__(self) -> str:
        return f"{self.subject} @ {self.issuer}"
