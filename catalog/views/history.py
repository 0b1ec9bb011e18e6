"""The catalog's change log and one object's history (admins and auditors)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import history
from portal.roles import sees_everything


@login_required
def object_history(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    if kind not in history.TRACKED:
        raise Http404
    entries = history.object_history(kind=kind, object_id=pk)
    if not entries:
        raise Http404("No history")
    return render(request, "catalog/history.html", {"entries": entries, "title": f"History of {entries[0].label}"})


@login_required
def history_log(request: HttpRequest) -> HttpResponse:
    if not sees_everything(request.user):
        raise PermissionDenied
    return render(request, "catalog/history.html", {"entries": history.history_log(), "title": "Catalog change log",
                                                    "show_object": True})
