"""API tokens people make, name, scope, date and revoke themselves (knox's tokens, stored hashed).

A token is shown once, when it is made; afterwards only its first characters (knox's token_key) name it. Read-only
tokens may only read (GET, HEAD, OPTIONS): security.auth refuses the rest with 403. An expired or revoked token
is gone: 401. Making and revoking go to the audit log; the token itself never does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from portal.roles import is_admin
from security.models import AuditEntry, TokenDetails
from security.services import audit_record

Scope = TokenDetails.Scope
LIFETIMES = (7, 30, 90, 365)  # days a token made in the browser may live; `manage.py api_token` makes one without end
LAST_USED_EVERY = timedelta(seconds=60)  # how stale "last used" may be (one write a minute per busy token at most)


class TokenError(ValueError):
    """What is wrong with a request for a token, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def token_create(*, user: Any, name: str, scope: str, days: int | None, request: HttpRequest | None = None,
                 ) -> tuple[TokenDetails, str]:
    """Make a token for `user`; returns its details and the token, which is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise TokenError("name", "give the token a name (what uses it)")
    if len(name) > 100:
        raise TokenError("name", "at most 100 characters")
    if scope not in Scope.values:
        raise TokenError("scope", f"give one of {', '.join(Scope.values)}")
    if days is not None and days not in LIFETIMES:
        raise TokenError("days", f"give one of {', '.join(map(str, LIFETIMES))}")
    if tokens_of(user).filter(details__name__iexact=name).exists():
        raise TokenError("name", f"you already have a token named {name!r}")
    return _make(user=user, name=name, scope=scope, days=days, request=request)


def _make(*, user: Any, name: str, scope: str, days: int | None, request: HttpRequest | None,
          ) -> tuple[TokenDetails, str]:
    with transaction.atomic():
        token, secret = AuthToken.objects.create(user=user, expiry=timedelta(days=days) if days else None)
        details = TokenDetails.objects.create(token=token, name=name, scope=scope)
        ends = f"expires {token.expiry:%Y-%m-%d %H:%M} UTC" if token.expiry else "no expiry"
        audit_record(kind=AuditEntry.Kind.TOKEN_CREATED, request=request, user=user, summary=(
            f"API token {name!r} ({token.token_key}…, {details.get_scope_display().lower()}, {ends})"))
    return details, secret


def token_revoke(*, actor: Any, details_id: int, request: HttpRequest | None = None) -> TokenDetails:
    """Revoke a token: its owner or an admin. TokenDetails.DoesNotExist when `actor` may not see it (or it is gone)."""
    details = tokens_visible_to(actor).get(pk=details_id)
    with transaction.atomic():
        owner = details.token.user
        summary = f"API token {details.name!r} ({details.token.token_key}…) of {owner.get_username()}"
        details.token.delete()  # its details go with it
        audit_record(kind=AuditEntry.Kind.TOKEN_REVOKED, request=request, user=actor, summary=summary)
    return details


def token_used(token: AuthToken) -> None:
    """Note that `token` was just used; at most one write a minute per token (a conditional update)."""
    now = timezone.now()
    details = getattr(token, "details", None)  # read anyway for the scope: most requests need no write at all
    if details is not None and details.last_used and details.last_used >= now - LAST_USED_EVERY:
        return
    TokenDetails.objects.filter(Q(last_used__isnull=True) | Q(last_used__lt=now - LAST_USED_EVERY),
                                token_id=token.pk).update(last_used=now)


def scope_of(token: Any) -> str:
    """A token's scope; one made before scopes existed, or not by knox, may write (as it always could)."""
    details = getattr(token, "details", None) if isinstance(token, AuthToken) else None
    return details.scope if details is not None else Scope.WRITE


def tokens_of(user: Any) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user)


def tokens_visible_to(user: Any) -> QuerySet[TokenDetails]:
    """Every token for an admin, else the person's own; newest first."""
    rows = TokenDetails.objects.select_related("token", "token__user").order_by("-token__created")
    return rows if is_admin(user) else rows.filter(token__user=user)


def token_expired(details: TokenDetails) -> bool:
    return bool(details.token.expiry and details.token.expiry <= timezone.now())


def command_line_token(user: Any) -> str:
    """`manage.py api_token`: a read-write token without end, named after where it came from."""
    return _make(user=user, name="manage.py api_token", scope=Scope.WRITE, days=None, request=None)[1]


__all__ = ["LIFETIMES", "Scope", "TokenError", "command_line_token", "scope_of", "token_create", "token_expired",
           "token_revoke", "token_used", "tokens_of", "tokens_visible_to"]
