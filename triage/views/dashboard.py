"""The alerts dashboard, and a team's report exported as CSV or JSON."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from portal.request_values import as_id
from triage import alert_stats, selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Alerts by signature, severity, team and day, and the top identities; ?team= narrows it, and
    ?format=csv|json exports that team's (or everyone's) report."""
    alerts = selectors.alerts_visible_to(user=request.user)
    days = request.GET.get("days", "30")
    if as_id(days) is None or not 1 <= as_id(days) <= 365:
        messages.error(request, "days: give a whole number from 1 to 365")
        days = "30"
    alerts = alerts.filter(last_seen__gte=timezone.now() - timezone.timedelta(days=int(days)))
    team = request.GET.get("team", "")
    if team:
        alerts = alerts.filter(team__slug=team)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        rows = alert_stats.report_rows(alerts)
        name = f"alerts-{team or 'all'}-{timezone.now():%Y%m%dT%H%M}"
        if fmt == "json":
            response = JsonResponse({"team": team or None, "days": int(days), "generated": timezone.now().isoformat(),
                                     "summary": {k: v for k, v in alert_stats.summary(alerts).items() if k != "chart"},
                                     "alerts": rows}, json_dumps_params={"indent": 2})
        else:
            response = HttpResponse(alert_stats.report_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in {"team": team, "days": days}.items() if v})
    return render(request, "triage/dashboard.html", {"summary": alert_stats.summary(alerts), "team": team,
                                                     "days": days, "query": query.urlencode()})
