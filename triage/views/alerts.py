"""Alert pages: the list (filtered), one alert with its events and detections, and its status changed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.models import CloudTrailEvent
from portal.roles import is_admin, is_developer
from portal.validation import error_sentence
from triage import selectors, services
from triage.models import AlertStatus, Severity, Signature


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts, error = selectors.alerts_visible_to(user=request.user), ""
    try:
        alerts = selectors.alerts_filter(alerts, request.GET)
    except ValueError as exc:
        error, alerts = str(exc), alerts.none()
    by_severity = dict(alerts.exclude(status=AlertStatus.RESOLVED).values_list("severity").annotate(n=Count("id")))
    filters = {k: request.GET[k] for k in selectors.ALERT_FILTERS if request.GET.get(k)}
    return render(request, "triage/alert_list.html", {
        "page": Paginator(alerts, 50).get_page(request.GET.get("page")), "error": error, "filters": filters,
        "by_severity": [(s, by_severity.get(s, 0)) for s in reversed(Severity.values)],
        "statuses": AlertStatus.values, "signatures": Signature.objects.values_list("name", flat=True)})


def _alert(request: HttpRequest, pk: int):
    alert = selectors.alerts_visible_to(user=request.user).filter(pk=pk).first()
    if alert is None:
        raise Http404("No such alert")
    return alert


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert(request, pk)
    events = CloudTrailEvent.objects.filter(event_id__in=alert.event_ids).order_by("-event_time")
    return render(request, "triage/alert_detail.html", {
        "alert": alert, "events": events, "detections": selectors.alert_detections(alert), "statuses": AlertStatus.values,
        "can_change": is_admin(request.user) or is_developer(request.user)})


@login_required
@require_POST
def alert_status(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert(request, pk)
    if not (is_admin(request.user) or is_developer(request.user)):
        raise PermissionDenied
    try:
        services.alert_status_set(alert=alert, status=request.POST.get("status", ""), user=request.user)
    except ValidationError as exc:
        messages.error(request, error_sentence(exc))
    return redirect(alert)
