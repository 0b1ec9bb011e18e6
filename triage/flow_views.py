"""Flow-log pages: what was read and found (files, detections by kind and hour), and the threat lists admins manage."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portal.roles import is_admin
from triage import flows
from triage.models import FlowLogFile, ThreatList

UPLOAD_LIMIT = flows.MAX_LIST_BYTES


@login_required
def flowlog_overview(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(hours=24)
    files = flows.files_visible_to(user=request.user)
    detections = flows.detections_visible_to(user=request.user)
    kind = request.GET.get("kind", "")
    if kind and kind not in flows.KIND_LABELS:
        messages.error(request, f"kind: give one of {', '.join(flows.KIND_LABELS)}")
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
        "kinds": [(k, label, by_kind.get(k, 0)) for k, label in flows.KIND_LABELS.items()], "kind": kind,
        "bars": [{"x": i * 20, "h": round(60 * n / peak), "y": 64 - round(60 * n / peak), "when": when, "n": n}
                 for i, (when, n) in enumerate(bars)],
        "page": Paginator(shown, 50).get_page(request.GET.get("page")), "files": files[:20],
        "destinations": flows.destinations() if is_admin(request.user) else [],
        "threat_lists": ThreatList.objects.all()})


def _admin(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied


def _posted(request: HttpRequest) -> dict:
    """The form's values as threat_list_save takes them; an uploaded file's text stands in for the textarea."""
    post = request.POST
    entries = post.get("entries")
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > UPLOAD_LIMIT:
            raise ValidationError({"file": [f"The file is over {UPLOAD_LIMIT // (1024 * 1024)} MB."]})
        entries = upload.read().decode("utf-8", "replace")
    try:
        hours = int(post.get("refresh_hours") or 24)
    except ValueError:
        raise ValidationError({"refresh_hours": ["Give a whole number of hours from 1 to 720."]}) from None
    return {"name": post.get("name", "").strip(), "description": post.get("description", "").strip(),
            "source": post.get("source", ThreatList.Source.UPLOAD), "url": post.get("url", "").strip(),
            "entries": entries if entries else None, "refresh_hours": hours, "enabled": post.get("enabled") == "on"}


@login_required
@require_http_methods(["GET", "POST"])
def threat_list_list(request: HttpRequest) -> HttpResponse:
    errors: dict = {}
    if request.method == "POST":
        _admin(request)
        try:
            saved = flows.threat_list_save(user=request.user, **_posted(request))
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, f"Threat list {saved.name}: {saved.entry_count:,} entries"
                             + (f" (fetch failed: {saved.fetch_error})" if saved.fetch_error else "") + ".")
            return redirect(saved)
    return render(request, "triage/threat_lists.html", {
        "lists": ThreatList.objects.all(), "errors": errors, "posted": request.POST, "sources": ThreatList.Source.choices},
        status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def threat_list_detail(request: HttpRequest, name: str) -> HttpResponse:
    threat_list = ThreatList.objects.filter(name=name).first()
    if threat_list is None:
        raise Http404("No such threat list")
    errors: dict = {}
    if request.method == "POST":
        _admin(request)
        try:
            values = _posted(request)
            if values["entries"] is None and values["source"] == ThreatList.Source.UPLOAD \
                    and threat_list.source == ThreatList.Source.URL:
                raise ValidationError({"entries": ["Paste or upload the addresses, one a line."]})
            saved = flows.threat_list_save(threat_list=threat_list, user=request.user, **values)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, f"Saved {saved.name}: {saved.entry_count:,} entries.")
            return redirect(saved)
    entries = threat_list.entries.splitlines()
    return render(request, "triage/threat_list_detail.html", {
        "list": threat_list, "entries": entries[:200], "more": max(0, len(entries) - 200), "errors": errors,
        "values": request.POST if errors else {
            "name": threat_list.name, "description": threat_list.description, "source": threat_list.source,
            "url": threat_list.url, "refresh_hours": threat_list.refresh_hours, "enabled": threat_list.enabled},
        "sources": ThreatList.Source.choices,
        "history": threat_list.history.all()[:10]}, status=400 if errors else 200)


@login_required
@require_POST
def threat_list_action(request: HttpRequest, name: str, action: str) -> HttpResponse:
    _admin(request)
    threat_list = ThreatList.objects.filter(name=name).first()
    if threat_list is None:
        raise Http404("No such threat list")
    if action == "fetch":
        if threat_list.source != ThreatList.Source.URL:
            messages.error(request, f"{name} is uploaded, not fetched from a URL.")
        else:
            fetched = flows.threat_list_fetch(threat_list.pk)
            if fetched.fetch_error:
                messages.error(request, f"{name}: {fetched.fetch_error}; the {fetched.entry_count:,} entries kept.")
            else:
                messages.success(request, f"{name} fetched: {fetched.entry_count:,} entries.")
        return redirect(threat_list)
    if action == "delete":
        threat_list.delete()
        messages.success(request, f"Threat list {name} deleted.")
        return redirect("triage:threat-list-list")
    raise Http404("No such action")


def _file_visible(request: HttpRequest, pk: int) -> FlowLogFile:
    found = flows.files_visible_to(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("No such file")
    return found


@login_required
@require_POST
def flowlog_file_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """A quarantined file read again (after its object was fixed, or a list changed)."""
    _admin(request)
    flow_file = _file_visible(request, pk)
    if flow_file.status != FlowLogFile.Status.QUARANTINED:
        messages.error(request, f"The file is {flow_file.status}: only a quarantined file is read again.")
    else:
        flows.file_retry(flow_file)
        messages.success(request, "The file is being read again.")
    return redirect("triage:flowlogs")

