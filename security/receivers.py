"""Sign-ins, sign-outs and failed sign-ins (from any login form: the portal's or the site admin's)."""

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from security import services
from security.models import AuditEntry


@receiver(user_logged_in, dispatch_uid="security-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    summary = getattr(user, "sso_summary", None)  # set by security.oidc's backend
    services.audit_record(kind=AuditEntry.Kind.LOGIN_SSO if summary else AuditEntry.Kind.LOGIN, request=request,
                          user=user, summary=summary or "Signed in")


@receiver(user_logged_out, dispatch_uid="security-logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    services.audit_record(kind=AuditEntry.Kind.LOGOUT, request=request, user=user,
                          summary=getattr(user, "sso_signed_out", None) or "Signed out")


@receiver(user_login_failed, dispatch_uid="security-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the username is read from the credentials: Django has already masked the password, and it is
    # never stored anyway.
    services.login_failed(request=request, username=str(credentials.get("username") or "")[:150])
