"""Reads of the audit log (admins and auditors only)."""

from django.db.models import Q, QuerySet

from audit.selectors import when_param
from security.models import AuditEntry

FILTERS = ("kind", "username", "ip", "q", "since", "until")


def audit_entries_filter(entries: QuerySet[AuditEntry], params) -> QuerySet[AuditEntry]:
    """ValueError naming the filter for a bad value."""
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    if get("kind"):
        if get("kind") not in AuditEntry.Kind.values:
            raise ValueError(f"kind: give one of {', '.join(AuditEntry.Kind.values)}")
        entries = entries.filter(kind=get("kind"))
    if get("username"):
        entries = entries.filter(username__iexact=get("username"))
    if get("ip"):
        entries = entries.filter(ip=get("ip")) if _is_ip(get("ip")) else entries.none()
    if get("q"):
        entries = entries.filter(Q(path__icontains=get("q")) | Q(summary__icontains=get("q")))
    if get("since"):
        entries = entries.filter(time__gte=when_param(get("since"), "since"))
    if get("until"):
        entries = entries.filter(time__lte=when_param(get("until"), "until"))
    return entries.select_related("user")


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
