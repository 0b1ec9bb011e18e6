"""portal's API routes (teams, accounts, me), the schema, its docs and the one API root; every other app mounts its
own routes (`<app>/api/urls.py`, included by portal/urls.py)."""

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.api import views
from portal.api.routers import APIRootView, app_router

router = app_router()
router.register("teams", views.TeamViewSet, basename="api-team")
router.register("accounts", views.AccountViewSet, basename="api-account")

urlpatterns = [
    path("", APIRootView.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script is served as a file (?script), not inline; its page keeps an inline <style>.
    path("docs/", csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
         name="api-docs"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
