"""Dry-run pages: the list with the form that asks for one, a report, its approval (admins)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.roles import admin_check, admin_required, is_admin
from portal.validation import error_sentence, errors_to_form
from remediation import dryrun, dryrun_signatures, selectors
from remediation.forms import DryRunForm
from remediation.models import DryRun, Policy


@login_required
@require_http_methods(["GET", "POST"])
def dry_run_list(request: HttpRequest) -> HttpResponse:
    form = DryRunForm(request.POST or None, initial={"policies": Policy.objects.filter(
        name__in=request.GET.getlist("policy"))})
    if request.method == "POST":
        admin_check(request.user)
        if form.is_valid():
            try:
                data = form.cleaned_data
                dry_run = dryrun.dry_run_create(policy_ids=[p.pk for p in data["policies"]], since=data["since"],
                                                until=data["until"], user=request.user,
                                                signature_names=data["signatures"],
                                                signature_drafts=[data["signature_drafts"]]
                                                if data["signature_drafts"] else [])
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                return redirect(dry_run)
    page = Paginator(selectors.dry_runs_visible_to(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "remediation/dry_run_list.html", {"form": form, "page": page})


def _dry_run(request: HttpRequest, pk: int) -> DryRun:
    found = selectors.dry_runs_visible_to(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("No such dry run")
    return found


@login_required
def dry_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dry_run = _dry_run(request, pk)
    report = selectors.dry_run_report_for(dry_run, user=request.user)
    chains: dict[int, list] = {}
    for entry in report.get("actions", []):
        entry["parameters_json"] = json.dumps(entry["parameters"], indent=1) if entry["parameters"] else ""
        chains.setdefault(entry["chain"], []).append(entry)
    plugin = dryrun_signatures.registered()
    for row in report.get("signatures", []) if plugin else []:
        row["svg"] = plugin.chart(row["chart"])
    ctx = {"dry_run": dry_run, "report": report, "chains": list(chains.values()),
           "counts": dryrun.counts(report), "applied_runs": dry_run.applied_runs.order_by("id"),
           "can_apply": is_admin(request.user) and dry_run.status == DryRun.Status.SUCCEEDED
           and dry_run.applied is None and dryrun.counts(report)[dryrun.WOULD_RUN] > 0}
    template = "remediation/_dry_run_body.html" if request.htmx else "remediation/dry_run_detail.html"
    return render(request, template, ctx)


@admin_required
@require_POST
def dry_run_apply(request: HttpRequest, pk: int) -> HttpResponse:
    dry_run = _dry_run(request, pk)
    try:
        first = dryrun.dry_run_apply(dry_run=dry_run, user=request.user)
    except ValidationError as exc:
        messages.error(request, error_sentence(exc))
    else:
        messages.success(request, f"Approved: {len(first)} plan{'s' if len(first) != 1 else ''} applying; each action "
                                  "reads its target again and is skipped if it changed since the report.")
    return redirect(dry_run)
