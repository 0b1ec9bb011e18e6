"""Compliance pages: the dashboard with its chart and exports, the findings, a finding's fix by hand."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from portal import aws
from portal.models import Account
from portal.roles import admin_required
from remediation import dashboard, selectors
from remediation.actions import actions_for
from remediation.actions.base import Target
from remediation.models import Finding, Rule
from remediation.policy_runs import RULE_FIXES, fix_start
from remediation.runner import remediation_clients


def _findings(request: HttpRequest):
    findings = selectors.findings_visible_to(user=request.user)
    return selectors.findings_filter(findings, request.GET)


@login_required
def compliance_dashboard(request: HttpRequest) -> HttpResponse:
    try:
        findings = _findings(request)
    except ValueError as exc:
        messages.error(request, str(exc))
        findings = selectors.findings_visible_to(user=request.user).none()
    fmt = request.GET.get("format")
    if fmt == "csv":
        response = HttpResponse(dashboard.export_csv(findings), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="findings-{timezone.now():%Y%m%dT%H%M}.csv"'
        return response
    if fmt == "json":
        return JsonResponse({"generated": timezone.now().isoformat(), "summary": dashboard.summary(findings),
                             "hipaa": dashboard.hipaa(findings), "findings": dashboard.export_rows(findings)},
                            json_dumps_params={"indent": 2, "default": str})
    query = request.GET.copy()
    query.pop("format", None)
    ctx = {"summary": dashboard.summary(findings), "hipaa": dashboard.hipaa(findings),
           "chart": dashboard.trend_svg_points(dashboard.trend()), "filters": request.GET, "query": query.urlencode()}
    return render(request, "remediation/dashboard.html", ctx)


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    error = ""
    try:
        findings = _findings(request)
    except ValueError as exc:
        error, findings = str(exc), selectors.findings_visible_to(user=request.user).none()
    page = Paginator(findings, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"page": page, "filters": request.GET, "error": error, "query": query.urlencode(),
           "rules": Rule.objects.values_list("name", flat=True)}
    return render(request, "remediation/_finding_rows.html" if request.htmx else "remediation/finding_list.html", ctx)


@admin_required
@require_http_methods(["GET", "POST"])
def finding_fix(request: HttpRequest, pk: int) -> HttpResponse:
    """Fix one finding by hand: the exact API call, its parameters and the expected change first; applied on
    confirmation, as the account's portal role, verified by re-reading the resource."""
    finding = Finding.objects.select_related("rule").filter(pk=pk, status="NON_COMPLIANT").first()
    if finding is None:
        raise Http404("No such non-compliant finding")

    preferred = RULE_FIXES.get(finding.rule.source)
    choices = sorted((a for a in actions_for(finding.resource_type) if a.name != "notify"),
                     key=lambda a: a.name != preferred)
    chosen = next((a for a in choices if a.name == request.POST.get("action", request.GET.get("action"))),
                  choices[0] if choices else None)
    if request.method == "POST" and chosen is not None:
        fix_start(finding=finding, action_name=chosen.name, user=request.user)
        messages.success(request, f"Applying {chosen.name} to {finding.resource_id}; the result and the verified "
                                  "change appear on the resource's timeline.")
        return redirect(f"{reverse('remediation:finding-list')}?resource_id={finding.resource_id}")
    plan, error = None, ""
    if chosen is not None:
        account = Account.objects.filter(account_id=finding.account_id).first()
        details = {"ports": [22]} if finding.rule.source == "restricted-ssh" else {}
        try:
            plan = chosen.preview(remediation_clients(account), Target(finding.resource_type, finding.resource_id,
                                                           finding.account_id, finding.region, details))
        except aws.AWS_ERRORS as exc:
            error = f"Reading the resource failed: {aws.error_code(exc)}"
    return render(request, "remediation/finding_fix.html", {
        "finding": finding, "choices": choices, "chosen": chosen, "plan": plan, "error": error,
        "parameters": json.dumps(plan.parameters, indent=2) if plan else ""})
