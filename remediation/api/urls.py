"""remediation's API routes: findings, rules, exceptions, policies, dry runs and actions."""

from portal.api.routers import app_router
from remediation.api import views

router = app_router()
router.register("findings", views.FindingViewSet, basename="api-finding")
router.register("rules", views.RuleViewSet, basename="api-rule")
router.register("exceptions", views.RuleExceptionViewSet, basename="api-exception")
router.register("policies", views.PolicyViewSet, basename="api-policy")
router.register("dry-runs", views.DryRunViewSet, basename="api-dry-run")
router.register("actions", views.ActionRunViewSet, basename="api-action")

urlpatterns = router.urls
