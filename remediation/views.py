"""Compliance pages: the dashboard with its chart and exports, findings, rules (with a tester), exceptions."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import ConfigResource, ItemStatus
from portal.json_text import json_parse
from portal.roles import is_admin
from portal.validation import errors_to_form
from remediation import dashboard, services
from remediation.compliance import account_context, view_of
from remediation.forms import ExceptionForm, RuleForm
from remediation.models import Rule


def _findings(request: HttpRequest):
    findings = dashboard.findings_visible_to(user=request.user)
    return dashboard.findings_filter(findings, request.GET)


@login_required
def compliance_dashboard(request: HttpRequest) -> HttpResponse:
    try:
        findings = _findings(request)
    except ValueError as exc:
        messages.error(request, str(exc))
        findings = dashboard.findings_visible_to(user=request.user).none()
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
        error, findings = str(exc), dashboard.findings_visible_to(user=request.user).none()
    page = Paginator(findings, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"page": page, "filters": request.GET, "error": error, "query": query.urlencode(),
           "rules": Rule.objects.values_list("name", flat=True)}
    return render(request, "remediation/_finding_rows.html" if request.htmx else "remediation/finding_list.html", ctx)


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rows = {r["key"]: r for r in dashboard.summary(dashboard.findings_visible_to(user=request.user))["by_rule"]}
    rules = [(rule, rows.get(rule.name)) for rule in Rule.objects.all()]
    return render(request, "remediation/rule_list.html", {"rules": rules})


@login_required
def rule_detail(request: HttpRequest, name: str) -> HttpResponse:
    rule = Rule.objects.filter(name=name).first()
    if rule is None:
        raise Http404("No such rule")
    findings = dashboard.findings_visible_to(user=request.user).filter(rule=rule).order_by("status", "resource_id")
    return render(request, "remediation/rule_detail.html", {
        "rule": rule, "findings": findings[:200], "definition": json.dumps(rule.definition, indent=2),
        "parameters": json.dumps(rule.parameters, indent=2), "history": rule.history.all()[:20]})


def _rule_form(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    if not is_admin(request.user):
        raise PermissionDenied
    initial = {f: getattr(rule, f) for f in ("name", "kind", "source", "description", "parameters", "definition",
                                              "at_launch", "enabled")} if rule else {"enabled": True}
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.rule_save(rule=rule, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Saved {saved.name}; every resource is being evaluated against it.")
            return redirect(saved)
    return render(request, "remediation/rule_form.html", {"form": form, "rule": rule})


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, name: str) -> HttpResponse:
    rule = Rule.objects.filter(name=name).first()
    if rule is None:
        raise Http404("No such rule")
    return _rule_form(request, rule)


@login_required
@require_POST
def rule_test(request: HttpRequest) -> HttpResponse:
    """Which current resources a declarative definition would flag, before it is saved (htmx partial)."""
    if not is_admin(request.user):
        raise PermissionDenied
    from remediation.rules.declarative import compile_rule, explain

    flagged, error, checked = [], "", 0
    try:
        definition = json_parse(request.POST.get("definition") or "{}")
        rule = compile_rule(definition)
    except ValueError as exc:
        error = str(exc)
    else:
        resources = ConfigResource.objects.exclude(status=ItemStatus.DELETED).filter(
            resource_type__in=list(rule.resource_types))[:5000]
        contexts: dict[str, dict] = {}
        for resource in resources:
            context = contexts.setdefault(resource.account_id, account_context(resource.account_id))
            view = view_of(resource, context)
            checked += 1
            verdict = rule.evaluate(view, {})
            if verdict.status == "NON_COMPLIANT":
                flagged.append((resource, verdict.annotation, explain(definition, view)))
    return render(request, "remediation/_rule_test.html", {"flagged": flagged, "error": error, "checked": checked})


@login_required
def exception_list(request: HttpRequest) -> HttpResponse:
    return render(request, "remediation/exception_list.html",
                  {"exceptions": dashboard.exceptions_visible_to(user=request.user), "now": timezone.now()})


@login_required
@require_http_methods(["GET", "POST"])
def exception_new(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):
        raise PermissionDenied
    form = ExceptionForm(request.POST or None, initial={
        "rule": request.GET.get("rule"), "scope": request.GET.get("scope", "RESOURCE"),
        "value": request.GET.get("value", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.exception_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "Exception saved; the findings it covers now count as excepted.")
            return redirect("remediation:exception-list")
    return render(request, "form.html", {"form": form, "title": "New exception", "multipart": False})


@login_required
@require_http_methods(["GET", "POST"])
def finding_fix(request: HttpRequest, pk: int) -> HttpResponse:
    """Fix one finding by hand: the exact API call, its parameters and the expected change first; applied on
    confirmation, as the account's portal role, verified by re-reading the resource."""
    if not is_admin(request.user):
        raise PermissionDenied
    from audit.recorder import Clients
    from portal import aws
    from portal.models import Account
    from remediation.actions import actions_for
    from remediation.actions.base import Target
    from remediation.models import Finding
    from remediation.remediate import fix_start

    finding = Finding.objects.select_related("rule").filter(pk=pk, status="NON_COMPLIANT").first()
    if finding is None:
        raise Http404("No such non-compliant finding")
    from remediation.remediate import RULE_FIXES

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
            plan = chosen.preview(Clients(account), Target(finding.resource_type, finding.resource_id,
                                                           finding.account_id, finding.region, details))
        except aws.AWS_ERRORS as exc:
            error = f"Reading the resource failed: {aws.error_code(exc)}"
    return render(request, "remediation/finding_fix.html", {
        "finding": finding, "choices": choices, "chosen": chosen, "plan": plan, "error": error,
        "parameters": json.dumps(plan.parameters, indent=2) if plan else ""})
