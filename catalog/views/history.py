"""The catalog's first history address (/catalog/history/<kind>/<pk>/), served by the one change log."""

from django.http import Http404, HttpRequest, HttpResponse

from portal.changelog import views as changelog_views

OLD_KINDS = {"portfolio": "portfolio", "product": "product", "version": "productversion", "constraint": "constraint"}


def object_history(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in OLD_KINDS:
        raise Http404
    return changelog_views.object_history(request, f"catalog.{OLD_KINDS[kind]}", pk)
