"""The flow-log page: what was read and found (files, detections by kind and hour); (admins) read a file again."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.roles import admin_required, is_admin
from triage import flowlog_files, selectors
from triage.models import FlowLogFile, ThreatList


@login_required
def flowlog_overview(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(hours=24)
    files = selectors.flowlog_files_visible_to(user=request.user)
    detections = selectors.detections_visible_to(user=request.user)
    kind = request.GET.get("kind", "")
    if kind and kind not in flowlog_files.KIND_LABELS:
        messages.error(request, f"kind: give one of {', '.join(flowlog_files.KIND_LABELS)}")
        kind = ""
    recent = files.filter(created__gte=since)
    by_status = dict(recent.values_list("status").annotate(n=Count("id")))
    by_kind = dict(detections.filter(first__gte=since).values_list("kind").annotate(n=Count("id")))
    hours = {row["hour"]: row["n"] for row in detections.filter(first__gte=since).annotate(
        hour=TruncHour("first")).values("hour").annotate(n=Count("id"))}
    start = since.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    bars = [(start + timedelta(hours=i), hours.get(start + timedelta(hours=i), 0)) for i in range(24)]
    peak = max([n for _, n in bars] + [1])
    shown = detections.filter(kind=kind) if kind else detections
    return render(request, "triage/flowlogs.html", {
        "by_status": by_status, "records": recent.aggregate(n=Sum("records"))["n"] or 0,
        "kinds": [(k, label, by_kind.get(k, 0)) for k, label in flowlog_files.KIND_LABELS.items()], "kind": kind,
        "bars": [{"x": i * 20, "h": round(60 * n / peak), "y": 64 - round(60 * n / peak), "when": when, "n": n}
                 for i, (when, n) in enumerate(bars)],
        "page": Paginator(shown, 50).get_page(request.GET.get("page")), "files": files[:20],
        "destinations": flowlog_files.destinations() if is_admin(request.user) else [],
        "threat_lists": ThreatList.objects.all()})


def _file_visible(request: HttpRequest, pk: int) -> FlowLogFile:
    found = selectors.flowlog_files_visible_to(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("No such file")
    return found


@admin_required
@require_POST
def flowlog_file_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """A quarantined file read again (after its object was fixed, or a list changed)."""
    flow_file = _file_visible(request, pk)
    if flow_file.status != FlowLogFile.Status.QUARANTINED:
        messages.error(request, f"The file is {flow_file.status}: only a quarantined file is read again.")
    else:
        flowlog_files.file_retry(flow_file)
        messages.success(request, "The file is being read again.")
    return redirect("triage:flowlogs")
