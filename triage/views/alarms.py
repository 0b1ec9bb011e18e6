"""The alarms page: alarms with their recent states; (admins) create one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.models import Team
from portal.roles import admin_check
from portal.validation import error_sentence
from triage import alarms, selectors
from triage.models import Alarm


@login_required
@require_http_methods(["GET", "POST"])
def alarm_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        admin_check(request.user)
        try:
            threshold = float(request.POST.get("threshold", ""))
        except ValueError:
            messages.error(request, "threshold: give a number")
        else:
            team = Team.objects.filter(slug=request.POST.get("team", "")).first()
            if request.POST.get("team") and team is None:
                messages.error(request, f"team: no team {request.POST['team']!r}")
            else:
                try:
                    alarm = alarms.alarm_create(name=request.POST.get("name", ""), metric=request.POST.get("metric", ""),
                                                threshold=threshold, comparison=request.POST.get("comparison", "GT"),
                                                team=team, user=request.user)
                except ValidationError as exc:
                    messages.error(request, error_sentence(exc, named=True))
                else:
                    messages.success(request, f"Alarm {alarm.name} created; it is {alarm.state}.")
                    return redirect("triage:alarm-list")
    return render(request, "triage/alarm_list.html", {
        "alarms": selectors.alarms_visible_to(user=request.user), "metrics": Alarm.Metric.choices, "comparisons": Alarm.Comparison.choices,
        "teams": Team.objects.values_list("slug", flat=True), "posted": request.POST})
