"""triage's API routes: /api/alerts/, /api/signatures/."""

from portal.api.routers import app_router
from triage.api import views

router = app_router()
router.register("alerts", views.AlertViewSet, basename="api-alert")
router.register("signatures", views.SignatureViewSet, basename="api-signature")

urlpatterns = router.urls
