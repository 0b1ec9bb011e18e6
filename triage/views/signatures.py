"""Signature pages: the list, one signature with its versions, and (admins) edit, run its tests, stage, promote."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portal.json_text import json_parse
from portal.roles import admin_required
from portal.validation import error_sentence, errors_to_form
from triage import selectors, services
from triage.forms import SignatureForm
from triage.models import AlertStatus, Signature


@login_required
def signature_list(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timezone.timedelta(days=1)
    signatures = Signature.objects.annotate(
        hits_day=Count("hits", filter=Q(hits__time__gte=since)),
        open_alerts=Count("alerts", filter=~Q(alerts__status=AlertStatus.RESOLVED), distinct=True))
    return render(request, "triage/signature_list.html", {"signatures": signatures})


def _signature(name: str) -> Signature:
    signature = Signature.objects.filter(name=name).first()
    if signature is None:
        raise Http404("No such signature")
    return signature


@login_required
def signature_detail(request: HttpRequest, name: str) -> HttpResponse:
    signature = _signature(name)
    return render(request, "triage/signature_detail.html", {
        "signature": signature, "pattern": json.dumps(signature.pattern, indent=2),
        "conditions": json.dumps(signature.conditions, indent=2) if signature.conditions else "",
        "stats": services.staging_stats(signature),
        "alerts": selectors.alerts_visible_to(user=request.user).filter(signature=signature)[:20], "positives": len(signature.tests.get("positive") or []),
        "negatives": len(signature.tests.get("negative") or [])})


def _signature_form(request: HttpRequest, signature: Signature | None) -> HttpResponse:
    fields = ("name", "title", "description", "severity", "status", "pattern", "conditions", "tags", "actions",
              "dedup_minutes", "tests")
    initial = {f: getattr(signature, f) for f in fields} if signature else {"status": Signature.Status.STAGING,
                                                                            "dedup_minutes": 60}
    form = SignatureForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.signature_save(signature=signature, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Saved {saved.name} (version {saved.version}, {saved.get_status_display()}).")
            return redirect(saved)
    return render(request, "triage/signature_form.html", {"form": form, "signature": signature})


@admin_required
@require_http_methods(["GET", "POST"])
def signature_new(request: HttpRequest) -> HttpResponse:
    return _signature_form(request, None)


@admin_required
@require_http_methods(["GET", "POST"])
def signature_edit(request: HttpRequest, name: str) -> HttpResponse:
    return _signature_form(request, _signature(name))


@admin_required
@require_POST
def signature_test(request: HttpRequest, name: str) -> HttpResponse:
    """Run its examples (the saved ones, or a draft's posted pattern/conditions/tests): an htmx partial."""
    signature = _signature(name) if name != "draft" else None
    data = {"name": name, "pattern": signature.pattern if signature else None,
            "conditions": signature.conditions if signature else {}, "tests": signature.tests if signature else {}}
    error = ""
    try:
        for key in ("pattern", "conditions", "tests"):
            if request.POST.get(key, "").strip():
                data[key] = json_parse(request.POST[key])
        results = services.signature_tests_run(data)
    except ValueError as exc:
        results, error = [], str(exc)
    return render(request, "triage/_test_results.html", {"results": results, "error": error,
                                                         "passed": bool(results) and all(r["passed"] for r in results)})


@admin_required
@require_POST
def signature_status(request: HttpRequest, name: str) -> HttpResponse:
    """Stage, promote (its examples must pass) or switch off."""
    signature = _signature(name)
    wanted = request.POST.get("status", "")
    try:
        if wanted == Signature.Status.ACTIVE and signature.status == Signature.Status.STAGING:
            signature = services.signature_promote(signature=signature, user=request.user)
        else:
            signature = services.signature_save(signature=signature, user=request.user, status=wanted)
    except ValidationError as exc:
        messages.error(request, error_sentence(exc))
    else:
        messages.success(request, f"{signature.name} is now {signature.get_status_display().lower()} "
                                  f"(version {signature.version}).")
    return redirect(signature)
