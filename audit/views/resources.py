"""Inventory pages: the resource list with counts, a resource's timeline and past states, and the recorder's own
state with its scans."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from audit import recorder_runs, selectors
from audit.config.registry import recorded_types
from audit.models import RecorderRun, RecorderState
from portal.models import Account
from portal.roles import admin_required, sees_everything


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    visible = selectors.resources_visible_to(user=request.user)
    error = ""
    try:
        resources = selectors.resources_filter(visible, request.GET)
    except ValueError as exc:
        error, resources = str(exc), visible.none()
    page = Paginator(resources, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = selectors.counts_by_type(resources)
    ctx = {"page": page, "filters": request.GET, "error": error, "query": query.urlencode(), "counts": counts,
           "top": max([c["count"] for c in counts], default=0), "types": recorded_types()}
    return render(request, "audit/_resource_rows.html" if request.htmx else "audit/resource_list.html", ctx)


def _visible_resource(request: HttpRequest, pk: int):
    resource = selectors.resources_visible_to(user=request.user).filter(pk=pk).first()
    if resource is None:
        raise Http404("No such resource")
    return resource


@login_required
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _visible_resource(request, pk)
    before = parse_datetime(request.GET.get("before", "")) if request.GET.get("before") else None
    timeline, older = selectors.resource_timeline(resource, before=before)
    if request.htmx and before is not None:
        return render(request, "audit/_timeline_entries.html", {"resource": resource, "timeline": timeline,
                                                                "older": older, "before": before})
    ctx = {"resource": resource, "timeline": timeline, "older": older, "before": before,
           "related": selectors.related_resources(resource),
           "configuration": json.dumps(resource.configuration, indent=2, sort_keys=True, default=str),
           "launch_id": _launch_id(resource)}
    return render(request, "audit/resource_detail.html", ctx)


def _launch_id(resource) -> int | None:
    """The portal launch whose stack made the resource (its stack's tag guardrail:launch-id, which CloudFormation
    puts on the resources), for the link to that launch's drift."""
    value = str((resource.tags or {}).get("guardrail:launch-id", ""))
    return int(value) if value.isdigit() else None


@login_required
def resource_at(request: HttpRequest, pk: int) -> HttpResponse:
    """The configuration at a moment (an htmx partial on the resource page)."""
    resource = _visible_resource(request, pk)
    at, error, item = request.GET.get("at", "").strip(), "", None
    try:
        item = selectors.item_at(resource, at) if at else None
    except ValueError:
        error = "at: give a date and time, such as 2026-11-28T14:00"
    if at and not error and item is None:
        error = "The recorder had not seen this resource yet at that time."
    pretty = json.dumps({"configuration": item.configuration, "supplementaryConfiguration": item.supplementary,
                         "tags": item.tags, "relationships": item.relationships}, indent=2, sort_keys=True,
                        default=str) if item else ""
    return render(request, "audit/_resource_at.html", {"resource": resource, "item": item, "pretty": pretty,
                                                        "error": error, "at": at})


@login_required
def recorder_status(request: HttpRequest) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    ctx = {"accounts": Account.objects.select_related("team").order_by("account_id"),
           "states": RecorderState.objects.select_related("account"),
           "runs": RecorderRun.objects.select_related("account", "requested_by")[:30], "types": recorded_types(),
           "now": timezone.now()}
    template = "audit/_recorder_runs.html" if request.htmx else "audit/recorder.html"
    return render(request, template, ctx)


@admin_required
@require_POST
def recorder_scan(request: HttpRequest, account_id: str) -> HttpResponse:
    account = get_object_or_404(Account, account_id=account_id)
    run = recorder_runs.scan_request(account=account, user=request.user)
    if run is None:
        messages.info(request, f"A scan of {account} is already waiting or running.")
    else:
        messages.success(request, f"Scanning {account}; the run below shows its progress.")
    return redirect("audit:recorder")
