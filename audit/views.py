import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit import inventory, selectors, services
from audit.models import LogFile, LogFileStatus
from portal.roles import sees_everything


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    events = selectors.events_visible_to(user=request.user)
    error = ""
    try:
        events = selectors.events_filter(events, request.GET)
    except ValueError as exc:
        error, events = str(exc), events.none()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"page": page, "filters": request.GET, "error": error, "query": query.urlencode()}
    return render(request, "audit/_event_rows.html" if request.htmx else "audit/event_list.html", ctx)


@login_required
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    event = selectors.events_visible_to(user=request.user).filter(event_id=event_id).first()
    if event is None:
        raise Http404("No such event")
    pretty = json.dumps(event.raw, indent=2, sort_keys=True, default=str)
    links = inventory.event_configuration_links(event)
    touched = []
    for r in event.resources.all():
        resource, item = links.get(r.resource_id, (None, None))
        touched.append((r, resource, item, inventory.item_url(resource, item) if resource else ""))
    return render(request, "audit/event_detail.html", {"event": event, "pretty": pretty, "touched": touched})


@login_required
def logfile_list(request: HttpRequest) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    files = LogFile.objects.all()
    if request.GET.get("status"):
        files = files.filter(status=request.GET["status"])
    page = Paginator(files, 50).get_page(request.GET.get("page"))
    return render(request, "audit/logfile_list.html", {"page": page, "statuses": LogFileStatus.values})


@login_required
@require_POST
def logfile_retry(request: HttpRequest, pk: int) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    log_file = get_object_or_404(LogFile, pk=pk, status=LogFileStatus.QUARANTINED)
    services.logfile_retry(log_file=log_file)
    messages.success(request, f"Ingesting {log_file} again.")
    return redirect("audit:logfile-list")
