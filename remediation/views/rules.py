"""Rule pages: the rules with their counts, a rule's findings and history, the form, the tester."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import ConfigResource, ItemStatus
from portal.json_text import json_parse
from portal.roles import admin_check, admin_required
from portal.validation import errors_to_form
from remediation import dashboard, selectors, services
from remediation.compliance import account_context, view_of
from remediation.forms import RuleForm
from remediation.models import Rule
from remediation.rules.declarative import compile_rule, explain


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rows = {r["key"]: r for r in dashboard.summary(selectors.findings_visible_to(user=request.user))["by_rule"]}
    rules = [(rule, rows.get(rule.name)) for rule in Rule.objects.all()]
    return render(request, "remediation/rule_list.html", {"rules": rules})


@login_required
def rule_detail(request: HttpRequest, name: str) -> HttpResponse:
    rule = Rule.objects.filter(name=name).first()
    if rule is None:
        raise Http404("No such rule")
    findings = selectors.findings_visible_to(user=request.user).filter(rule=rule).order_by("status", "resource_id")
    return render(request, "remediation/rule_detail.html", {
        "rule": rule, "findings": findings[:200], "definition": json.dumps(rule.definition, indent=2),
        "parameters": json.dumps(rule.parameters, indent=2)})


def _rule_form(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    admin_check(request.user)
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


@admin_required
@require_POST
def rule_test(request: HttpRequest) -> HttpResponse:
    """Which current resources a declarative definition would flag, before it is saved (htmx partial)."""
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
