"""The home page, the health check for load balancers and the health panel for admins."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import selectors
from portal.health import health_report
from portal.roles import admin_required


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    accounts = selectors.accounts_visible_to(user=request.user)
    ctx = {
        "teams": selectors.teams_visible_to(user=request.user),
        "accounts": accounts,
        "regions": selectors.region_counts(accounts=accounts),
        "my_teams": request.user.teams.prefetch_related("accounts"),
    }
    return render(request, "portal/home.html", ctx)


@admin_required
def health_panel(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/_health.html", {"report": health_report()})
