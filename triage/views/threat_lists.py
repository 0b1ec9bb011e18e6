"""Threat-list pages: the lists, one list with its entries and history; (admins) add, change, fetch, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.roles import admin_check, admin_required
from triage import threat_lists
from triage.models import ThreatList

UPLOAD_LIMIT = threat_lists.MAX_LIST_BYTES


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
        admin_check(request.user)
        try:
            saved = threat_lists.threat_list_save(user=request.user, **_posted(request))
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
        admin_check(request.user)
        try:
            values = _posted(request)
            if values["entries"] is None and values["source"] == ThreatList.Source.UPLOAD \
                    and threat_list.source == ThreatList.Source.URL:
                raise ValidationError({"entries": ["Paste or upload the addresses, one a line."]})
            saved = threat_lists.threat_list_save(threat_list=threat_list, user=request.user, **values)
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
        "sources": ThreatList.Source.choices}, status=400 if errors else 200)


@admin_required
@require_POST
def threat_list_action(request: HttpRequest, name: str, action: str) -> HttpResponse:
    threat_list = ThreatList.objects.filter(name=name).first()
    if threat_list is None:
        raise Http404("No such threat list")
    if action == "fetch":
        if threat_list.source != ThreatList.Source.URL:
            messages.error(request, f"{name} is uploaded, not fetched from a URL.")
        else:
            fetched = threat_lists.threat_list_fetch(threat_list.pk)
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
