from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from audit.api import views as audit_views
from catalog.api import launch_views
from catalog.api import views as catalog_views
from portal.api import views
from remediation.api import views as remediation_views
from triage import api as triage_api

router = DefaultRouter()
router.register("teams", views.TeamViewSet, basename="api-team")
router.register("accounts", views.AccountViewSet, basename="api-account")
router.register("portfolios", catalog_views.PortfolioViewSet, basename="api-portfolio")
router.register("products", catalog_views.ProductViewSet, basename="api-product")
router.register("versions", catalog_views.VersionViewSet, basename="api-version")
router.register("constraints", catalog_views.ConstraintViewSet, basename="api-constraint")
router.register("launches", launch_views.LaunchViewSet, basename="api-launch")
router.register("events", audit_views.EventViewSet, basename="api-event")
router.register("resources", audit_views.ResourceViewSet, basename="api-resource")
router.register("findings", remediation_views.FindingViewSet, basename="api-finding")
router.register("rules", remediation_views.RuleViewSet, basename="api-rule")
router.register("exceptions", remediation_views.RuleExceptionViewSet, basename="api-exception")
router.register("policies", remediation_views.PolicyViewSet, basename="api-policy")
router.register("dry-runs", remediation_views.DryRunViewSet, basename="api-dry-run")
router.register("alerts", triage_api.AlertViewSet, basename="api-alert")
router.register("signatures", triage_api.SignatureViewSet, basename="api-signature")
router.register("actions", remediation_views.ActionRunViewSet, basename="api-action")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script is served as a file (?script), not inline; its page keeps an inline <style>.
    path("docs/", csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
         name="api-docs"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
