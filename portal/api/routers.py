"""Each app registers its own API routes (`<app>/api/urls.py`); portal/urls.py mounts them all under /api/.

`app_router()` gives an app DRF's DefaultRouter without a root of its own (the format suffixes stay); the one API
root, `api_root`, lists every collection of every app: the routes named `api-<name>-list`, found in the URLconf
rather than imported, so portal imports no app above it.
"""

from django.urls import get_resolver
from rest_framework import routers


def app_router() -> routers.DefaultRouter:
    router = routers.DefaultRouter()
    router.include_root_view = False
    return router


def _collections() -> dict[str, str]:
    """{"teams": "api-team-list", ...}: every API collection the URLconf names, by its path segment."""
    found = {}
    for name, entries in get_resolver().reverse_dict.lists():
        if isinstance(name, str) and name.startswith("api-") and name.endswith("-list"):
            route = entries[0][0][0][0]  # "api/teams/" as reversed without arguments
            segment = route.rstrip("/").rsplit("/", 1)[-1]
            found[segment.split(".")[0]] = name
    return dict(sorted(found.items()))


class APIRootView(routers.APIRootView):
    """The API's collections, one link each."""

    def get(self, request, *args, **kwargs):
        self.api_root_dict = _collections()
        return super().get(request, *args, **kwargs)
