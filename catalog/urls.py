from django.urls import path

from catalog import launch_pages, views
from portal.changelog.views import change_log

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_index, name="index"),
    path("history/", change_log, name="history-log"),  # the change log's first address
    path("history/<str:kind>/<int:pk>/", views.object_history, name="object-history"),
    path("portfolios/new/", views.portfolio_edit, name="portfolio-create"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="portfolio-detail"),
    path("portfolios/<int:pk>/edit/", views.portfolio_edit, name="portfolio-edit"),
    path("products/new/", views.product_edit, name="product-create"),
    path("products/<int:pk>/", views.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/versions/new/", views.version_create, name="version-create"),
    path("products/<int:pk>/constraints/new/", views.constraint_create, name="constraint-create"),
    path("products/<int:pk>/preview/", views.product_preview, name="product-preview"),
    path("constraints/<int:pk>/delete/", views.constraint_delete, name="constraint-delete"),
    path("products/<int:pk>/launch/", launch_pages.launch_new, name="launch-new"),
    path("launches/", launch_pages.launch_list, name="launch-list"),
    path("launches/<int:pk>/", launch_pages.launch_detail, name="launch-detail"),
    path("launches/<int:pk>/terminate/", launch_pages.launch_terminate, name="launch-terminate"),
    path("launches/<int:pk>/update/", launch_pages.launch_update, name="launch-update"),
    path("versions/<int:pk>/", views.version_detail, name="version-detail"),
    path("versions/<int:pk>/guidance/", views.version_guidance, name="version-guidance"),
    path("versions/<int:pk>/diff/", views.version_diff, name="version-diff"),
]
