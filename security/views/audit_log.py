from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.roles import sees_everything
from security import selectors
from security.models import AuditEntry


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Sign-ins, refusals and admins' writes, newest first; for admins and auditors."""
    if not sees_everything(request.user):
        raise PermissionDenied
    entries, error = AuditEntry.objects.all(), ""
    try:
        entries = selectors.audit_entries_filter(entries, request.GET)
    except ValueError as exc:
        error, entries = str(exc), entries.none()
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"page": Paginator(entries, 50).get_page(request.GET.get("page")), "filters": request.GET,
           "error": error, "query": query.urlencode(), "kinds": AuditEntry.Kind.choices}
    return render(request, "security/_audit_rows.html" if request.htmx else "security/audit_log.html", ctx)
