"""Policy pages: policies and event rules (their versions, mode, form) and the event-pattern tester."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit.cloudtrail.patterns import as_event, compile_pattern
from audit.selectors import events_visible_to
from portal.json_text import json_parse
from portal.roles import admin_check, admin_required
from portal.validation import error_sentence, errors_to_form
from remediation import selectors, services
from remediation.forms import PolicyForm
from remediation.models import Policy, PolicyMode

PATTERN_EVENTS = 5000  # the tester looks at most at this many past events
PATTERN_SHOWN = 50
MODE_BUTTONS = [(PolicyMode.OFF, "Off"), (PolicyMode.DRY_RUN, "Dry run"), (PolicyMode.ENFORCE, "Enforce")]


def _policy(name: str) -> Policy:
    policy = Policy.objects.select_related("rule").filter(name=name).first()
    if policy is None:
        raise Http404("No such policy")
    return policy


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind")
    policies = selectors.policies_with_recent_runs(kind=kind)
    return render(request, "remediation/policy_list.html", {"policies": policies, "kind": kind})


@login_required
def policy_detail(request: HttpRequest, name: str) -> HttpResponse:
    policy = _policy(name)
    return render(request, "remediation/policy_detail.html", {
        "policy": policy, "pattern": json.dumps(policy.event_pattern, indent=2) if policy.event_pattern else "",
        "actions": json.dumps(policy.actions, indent=2), "modes": MODE_BUTTONS,
        "runs": selectors.actions_visible_to(user=request.user).filter(policy=policy)[:50]})


def _pattern_in_address(request: HttpRequest) -> dict | None:
    """The pattern the pattern tester passes on (`?pattern=`); one that is not a JSON object is said and left out."""
    text = request.GET.get("pattern")
    if not text:
        return None
    try:
        pattern = json_parse(text)
    except ValueError:
        pattern = None
    if not isinstance(pattern, dict):
        messages.warning(request, "The pattern in the address is not a JSON object; it was left out.")
        return None
    return pattern


def _policy_form(request: HttpRequest, policy: Policy | None) -> HttpResponse:
    admin_check(request.user)
    initial = {"name": policy.name, "description": policy.description, "mode": policy.mode,
               "rule": policy.rule.name if policy.rule else None, "event_pattern": policy.event_pattern,
               "actions": policy.actions, "scope": policy.scope, "max_resources": policy.max_resources} if policy \
        else {"mode": PolicyMode.DRY_RUN, "max_resources": 10, "actions": [{"action": "notify"}],
              "event_pattern": _pattern_in_address(request)}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.policy_save(policy=policy, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Saved {saved.name} (version {saved.version}, {saved.mode}).")
            return redirect("remediation:policy-detail", name=saved.name)
    return render(request, "remediation/policy_form.html", {"form": form, "policy": policy})


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    return _policy_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _policy_form(request, _policy(name))


@admin_required
@require_POST
def policy_mode(request: HttpRequest, name: str) -> HttpResponse:
    """Switch a policy off, to dry_run or to enforce (a new version)."""
    policy = _policy(name)
    try:
        policy = services.policy_save(policy=policy, user=request.user, mode=request.POST.get("mode", ""))
    except ValidationError as exc:
        messages.error(request, error_sentence(exc))
    else:
        messages.success(request, f"{policy.name} is now {policy.mode} (version {policy.version}).")
    return redirect("remediation:policy-detail", name=policy.name)


@login_required
@require_http_methods(["GET", "POST"])
def pattern_test(request: HttpRequest) -> HttpResponse:
    """Run an EventBridge pattern against a pasted event, or against the stored events of the last hours."""
    ctx: dict = {"pattern": request.GET.get("pattern", ""), "hours": "24"}
    policy_name = request.GET.get("policy")
    if policy_name and not ctx["pattern"]:
        ctx["pattern"] = json.dumps(_policy(policy_name).event_pattern or {}, indent=2)
    if request.method != "POST":
        return render(request, "remediation/pattern_test.html", ctx)
    ctx.update(pattern=request.POST.get("pattern", ""), event=request.POST.get("event", ""),
               hours=request.POST.get("hours", "24"))
    try:
        pattern = compile_pattern(ctx["pattern"])
    except ValueError as exc:
        ctx["error"] = f"Pattern: {exc}"
        return render(request, "remediation/_pattern_result.html", ctx)
    if ctx["event"].strip():
        try:
            event = json_parse(ctx["event"])
            if not isinstance(event, dict):
                raise ValueError("give a JSON object")
        except ValueError as exc:
            ctx["error"] = f"Event: not a JSON object ({exc})"
            return render(request, "remediation/_pattern_result.html", ctx)
        enveloped = as_event(event)
        ctx.update(single=True, matched=pattern.matches(enveloped), why=pattern.explain(enveloped))
        return render(request, "remediation/_pattern_result.html", ctx)
    try:
        hours = float(ctx["hours"])
        if not 0 < hours <= 24 * 31:
            raise ValueError
    except ValueError:
        ctx["error"] = "Hours: give a number from 0 to 744 (31 days)."
        return render(request, "remediation/_pattern_result.html", ctx)
    events = events_visible_to(user=request.user).filter(
        event_time__gte=timezone.now() - timedelta(hours=hours)).order_by("-event_time")[:PATTERN_EVENTS]
    checked, found = 0, []
    for event in events:
        checked += 1
        if pattern.matches(as_event(event.raw)):
            found.append(event)
    ctx.update(single=False, checked=checked, found=found[:PATTERN_SHOWN], total=len(found),
               limit=PATTERN_EVENTS)
    return render(request, "remediation/_pattern_result.html", ctx)
