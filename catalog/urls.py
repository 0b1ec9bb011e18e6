from django.urls import path

from catalog.views import constraints, drift, history, index, launches, portfolios, products, versions
from portal.changelog.views import change_log

app_name = "catalog"

urlpatterns = [
    path("", index.catalog_index, name="index"),
    path("history/", change_log, name="history-log"),  # the change log's first address
    path("history/<str:kind>/<int:pk>/", history.object_history, name="object-history"),
    path("portfolios/new/", portfolios.portfolio_edit, name="portfolio-create"),
    path("portfolios/<int:pk>/", portfolios.portfolio_detail, name="portfolio-detail"),
    path("portfolios/<int:pk>/edit/", portfolios.portfolio_edit, name="portfolio-edit"),
    path("products/new/", products.product_edit, name="product-create"),
    path("products/<int:pk>/", products.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", products.product_edit, name="product-edit"),
    path("products/<int:pk>/versions/new/", versions.version_create, name="version-create"),
    path("products/<int:pk>/constraints/new/", constraints.constraint_create, name="constraint-create"),
    path("products/<int:pk>/preview/", products.product_preview, name="product-preview"),
    path("constraints/<int:pk>/delete/", constraints.constraint_delete, name="constraint-delete"),
    path("products/<int:pk>/launch/", launches.launch_new, name="launch-new"),
    path("launches/", launches.launch_list, name="launch-list"),
    path("launches/<int:pk>/", launches.launch_detail, name="launch-detail"),
    path("launches/<int:pk>/terminate/", launches.launch_terminate, name="launch-terminate"),
    path("launches/<int:pk>/update/", launches.launch_update, name="launch-update"),
    path("launches/<int:pk>/drift/", drift.launch_drift, name="launch-drift"),
    path("versions/<int:pk>/", versions.version_detail, name="version-detail"),
    path("versions/<int:pk>/guidance/", versions.version_guidance, name="version-guidance"),
    path("versions/<int:pk>/diff/", versions.version_diff, name="version-diff"),
]
