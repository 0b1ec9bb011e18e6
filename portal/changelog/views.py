"""The change log pages: every change (admins and auditors), one object's history, one change with Previous/Next.
htmx asks for the rows only (filters and pages push the URL)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from portal.changelog import selectors
from portal.changelog.registry import TRACKED, Tracked, tracked_get
from portal.request_id import request_id_clean
from portal.request_values import as_id
from portal.roles import sees_everything

LOG_PAGE = 50
HISTORY_PAGE = 25


@login_required
def change_log(request: HttpRequest) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    kind = request.GET.get("kind", "") if request.GET.get("kind", "") in TRACKED else ""
    filters = {"kind": kind, "user": request.GET.get("user", "").strip()[:150],
               "request_id": request_id_clean(request.GET.get("request_id", "").strip()) or ""}
    rows = selectors.change_log(kind=kind, username=filters["user"], request_id=filters["request_id"])
    page = Paginator(rows, LOG_PAGE).get_page(as_id(request.GET.get("page", "")) or 1)
    ctx = {"page": page, "entries": selectors.entries_for_rows(page.object_list), "filters": filters,
           "kinds": sorted(TRACKED.values(), key=lambda t: t.name)}
    template = "portal/changelog/_log_rows.html" if request.htmx else "portal/changelog/log.html"
    return render(request, template, ctx)


def _tracked_visible(request: HttpRequest, kind: str, pk: int) -> Tracked:
    """The registered kind, if this person may read this object's history: 404 for what they cannot see, 403 for
    a kind only admins and auditors read."""
    tracked = tracked_get(kind)
    if tracked is None:
        raise Http404("No such kind")
    if not selectors.history_visible(user=request.user, tracked=tracked, object_id=pk):
        if tracked.visible is None:
            raise PermissionDenied
        raise Http404("No such object")
    return tracked


@login_required
def object_history(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    tracked = _tracked_visible(request, kind, pk)
    records = selectors.object_records(tracked=tracked, object_id=pk)
    page = Paginator(records, HISTORY_PAGE).get_page(as_id(request.GET.get("page", "")) or 1)
    entries = selectors.entries_of(page.object_list, tracked)
    live = tracked.model.objects.filter(pk=pk).first()
    if not entries and live is None:
        raise Http404("No history")
    ctx = {"tracked": tracked, "entries": entries, "page": page, "label": entries[0].label if entries else str(live),
           "object_url": tracked.url(live) if live is not None and tracked.url else None}
    return render(request, "portal/changelog/object.html", ctx)


@login_required
def change_detail(request: HttpRequest, kind: str, pk: int, history_id: int) -> HttpResponse:
    tracked = _tracked_visible(request, kind, pk)
    record = selectors.record_get(tracked=tracked, object_id=pk, history_id=history_id)
    if record is None:
        raise Http404("No such change")
    previous, following = selectors.record_neighbours(record)
    ctx = {"tracked": tracked, "entry": selectors.entry_of(record, tracked), "previous": previous,
           "next": following}
    return render(request, "portal/changelog/change.html", ctx)
