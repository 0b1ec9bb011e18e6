"""Guardrail's own calls in CloudTrail: which records the portal's roles made, told by their role session names.

Every AWS call of the portal goes through portal/aws.py, which names the role session after the part of the
portal making it. Those names are listed here, in one place (a test fails when production code names a session
that this list does not cover). A record is the portal's own when it was made in such a session of one of the
portal's own roles (the kit's Guardrail* roles, or an account's own `role_name`), or by the portal's own principal
(AWS_PORTAL_PRINCIPAL_ARN, when set). The role matters too: a person who can assume some other role and names
their session "guardrail-portal" does not hide their calls.

Ingestion keeps the portal's writes (remediation, launches: auditors want them), marked as Guardrail's and hidden
from the history by default; the portal's read-only calls (about 50 describes per account and scan) are counted per
account and day instead of stored, unless CLOUDTRAIL_KEEP_PORTAL_READS keeps them. A read refused for want of a
permission (the kit lacks it) is stored like a write; the recorder's everyday "not found" answers (no tag set, no
bucket policy) are reads like the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

__all__ = ["SESSION_PREFIXES", "PortalIdentities", "is_denied", "is_session_name"]

# The role session names the portal's calls use (portal/aws.py's `session_name=`), each matched as a prefix:
# "guardrail-launch-" stands for guardrail-launch-<launch id>.
SESSION_PREFIXES: tuple[str, ...] = (
    "guardrail-portal",  # portal/aws.py's default: reads, CloudTrail delivery
    "guardrail-recorder",  # audit.recorder: the describe-based configuration recorder
    "guardrail-rules",  # remediation.compliance: the rules' extra reads
    "guardrail-org",  # triage.org: the organisation's people and keys
    "guardrail-remediation",  # remediation actions through the remediation role
    "guardrail-launch-",  # catalog.stacks: one session per launch
    "guardrail-bootstrap",  # the sandbox's set-up
    "guardrail-check",  # onboarding.checks: the connection check
    "guardrail-events",  # audit.events_delivery: the real-time queue (events_consume)
)

# The kit's roles, by their settings (the settings some deployments do not have fall back to the kit's names).
ROLE_SETTINGS: dict[str, str] = {
    "AWS_PORTAL_ROLE_NAME": "GuardrailPortal",
    "AWS_REMEDIATION_ROLE_NAME": "GuardrailRemediation",
    "AWS_LAUNCH_ROLE_NAME": "GuardrailLaunch",
    "AWS_ORGANIZATIONS_ROLE_NAME": "GuardrailOrganizations",
}


# What AWS answers, across services, when the caller lacks the permission: AccessDenied, AccessDeniedException,
# Client.UnauthorizedOperation, UnauthorizedOperation, AuthorizationError(Exception), Forbidden.
_DENIED_WORDS = ("AccessDenied", "Unauthorized", "AuthorizationError", "Forbidden")


def is_session_name(name: str) -> bool:
    return name.startswith(SESSION_PREFIXES)


def is_denied(error_code: str) -> bool:
    """Whether a call's error code says the caller lacked the permission."""
    return any(word in error_code for word in _DENIED_WORDS)


@dataclass(frozen=True)
class PortalIdentities:
    """What tells the portal's own records from the rest, looked up once per file."""

    role_names: frozenset[str]
    principal_arn: str = ""

    @classmethod
    def current(cls, account_role_names: set[str] | frozenset[str] = frozenset()) -> "PortalIdentities":
        roles = {getattr(settings, name, default) or default for name, default in ROLE_SETTINGS.items()}
        return cls(role_names=frozenset(roles | {r for r in account_role_names if r}),
                   principal_arn=getattr(settings, "AWS_PORTAL_PRINCIPAL_ARN", "") or "")

    def made(self, *, identity_type: str | None, user_name: str | None, session_issuer_name: str | None,
             identity_arn: str | None) -> bool:
        """Whether a record's caller is the portal: a Guardrail session of a portal role, or its own principal."""
        if identity_type == "AssumedRole":
            return bool(user_name) and user_name.startswith(SESSION_PREFIXES) and session_issuer_name in self.role_names
        return bool(self.principal_arn) and identity_arn == self.principal_arn
