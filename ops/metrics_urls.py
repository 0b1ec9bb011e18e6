"""/metrics, at the site's root (Prometheus scrapes it there), outside the `ops:` namespace."""

from django.urls import path

from ops import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
]
