"""Writes to the audit log, and the login throttle that counts its failed sign-ins.

The throttle keeps no state of its own: it counts LOGIN_FAILED rows, which every gunicorn worker and
every host writes to the same database, so a limit holds however many processes serve the portal.
"""

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import timezone

from security.models import AuditEntry

Kind = AuditEntry.Kind


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address: behind the TLS proxy (BEHIND_TLS_PROXY) the last X-Forwarded-For hop, which
    the proxy itself appended; else REMOTE_ADDR. None when it is not an address."""
    if request is None:
        return None
    raw = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        raw = forwarded.split(",")[-1]
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def _text(value: str, limit: int) -> str:
    """A column's text: cut to its length, without NUL (which PostgreSQL text cannot hold)."""
    return str(value or "").replace("\x00", "")[:limit]


def audit_record(*, kind: str, request: HttpRequest | None = None, user: Any = None, username: str = "",
                 status: int | None = None, summary: str = "") -> AuditEntry:
    """One row: who, when, from where, what. Only the path is kept of the URL (a query may carry a token)."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AuditEntry.objects.create(
        kind=kind, user=user, username=_text(username or (user.get_username() if user else ""), 150),
        ip=client_ip(request), method=_text(getattr(request, "method", ""), 10),
        path=_text(getattr(request, "path", ""), 500), status=status, summary=_text(summary, 300),
        request_id=_text(getattr(request, "request_id", ""), 64))


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _lock_filter(username: str, ip: str | None) -> Q:
    q = Q(kind=Kind.USER_LOCKED, username__iexact=username) if username else Q(pk__in=[])
    return q | Q(kind=Kind.IP_LOCKED, ip=ip) if ip else q


def login_locked_until(*, username: str, ip: str | None, now: datetime | None = None) -> datetime | None:
    """When the lockout of this username or address ends; None when neither is locked out."""
    now, username = now or timezone.now(), _text(username, 150)
    latest = AuditEntry.objects.filter(_lock_filter(username, ip), time__gt=now - _window()).aggregate(t=Max("time"))
    return latest["t"] + _window() if latest["t"] else None


def login_failed(*, request: HttpRequest | None, username: str, now: datetime | None = None) -> None:
    """Record a failed sign-in; the one that reaches a limit within the window locks out the username (failures
    since its last success or lockout count) or the address (failures since its last lockout)."""
    now, username = now or timezone.now(), _text(username, 150)
    entry = audit_record(kind=Kind.LOGIN_FAILED, request=request, username=username,
                         summary="Wrong username or password")
    since = now - _window()
    if username:
        rows = AuditEntry.objects.filter(username__iexact=username)
        reset = rows.filter(kind__in=[Kind.LOGIN, Kind.USER_LOCKED], time__gt=since).aggregate(t=Max("time"))["t"]
        failures = rows.filter(kind=Kind.LOGIN_FAILED, time__gt=reset or since).count()
        if failures >= settings.LOGIN_FAILURES_PER_USERNAME:
            audit_record(kind=Kind.USER_LOCKED, request=request, username=username, summary=(
                f"{failures} failed sign-ins within {settings.LOGIN_LOCKOUT_MINUTES} minutes: "
                f"this username is locked out until {now + _window():%H:%M} UTC"))
    if entry.ip:
        rows = AuditEntry.objects.filter(ip=entry.ip)
        reset = rows.filter(kind=Kind.IP_LOCKED, time__gt=since).aggregate(t=Max("time"))["t"]
        failures = rows.filter(kind=Kind.LOGIN_FAILED, time__gt=reset or since).count()
        if failures >= settings.LOGIN_FAILURES_PER_IP:
            audit_record(kind=Kind.IP_LOCKED, request=request, summary=(
                f"{failures} failed sign-ins within {settings.LOGIN_LOCKOUT_MINUTES} minutes: "
                f"this address is locked out until {now + _window():%H:%M} UTC"))


def audit_log_purge(*, older_than: datetime, batch: int = 5000) -> int:
    """Remove entries older than the retention, in batches (a long table never locks for long)."""
    removed = 0
    while ids := list(AuditEntry.objects.filter(time__lt=older_than).values_list("pk", flat=True)[:batch]):
        removed += AuditEntry.objects.filter(pk__in=ids).delete()[0]
    return removed
