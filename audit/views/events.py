"""Event pages: the CloudTrail history with its filters, one event with the resources it touched."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from audit import selectors, timeline


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
    portal_reads = selectors.portal_reads_today(user=request.user, account_id=request.GET.get("account_id", "").strip())
    ctx = {"page": page, "filters": request.GET, "error": error, "query": query.urlencode(),
           "portal_reads": portal_reads, "portal_reads_kept": settings.CLOUDTRAIL_KEEP_PORTAL_READS}
    return render(request, "audit/_event_rows.html" if request.htmx else "audit/event_list.html", ctx)


@login_required
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    event = selectors.events_visible_to(user=request.user).filter(event_id=event_id).first()
    if event is None:
        raise Http404("No such event")
    pretty = json.dumps(event.raw, indent=2, sort_keys=True, default=str)
    links = selectors.event_configuration_links(event)
    touched = []
    for r in event.resources.all():
        resource, item = links.get(r.resource_id, (None, None))
        touched.append((r, resource, item, timeline.item_url(resource, item) if resource else ""))
    return render(request, "audit/event_detail.html", {"event": event, "pretty": pretty, "touched": touched})
