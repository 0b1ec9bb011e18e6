"""audit's API routes: /api/events/, /api/resources/."""

from audit.api import views
from portal.api.routers import app_router

router = app_router()
router.register("events", views.EventViewSet, basename="api-event")
router.register("resources", views.ResourceViewSet, basename="api-resource")

urlpatterns = router.urls
