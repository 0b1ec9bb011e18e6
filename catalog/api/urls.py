"""catalog's API routes: /api/portfolios/, products/, versions/, constraints/, launches/."""

from catalog.api import launch_views, views
from portal.api.routers import app_router

router = app_router()
router.register("portfolios", views.PortfolioViewSet, basename="api-portfolio")
router.register("products", views.ProductViewSet, basename="api-product")
router.register("versions", views.VersionViewSet, basename="api-version")
router.register("constraints", views.ConstraintViewSet, basename="api-constraint")
router.register("launches", launch_views.LaunchViewSet, basename="api-launch")

urlpatterns = router.urls
