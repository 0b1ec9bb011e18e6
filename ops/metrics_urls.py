"""/metrics, at the site's root (Prometheus scrapes it there), outside the `ops:` namespace."""

from django.urls import path

from ops.views import metrics

urlpatterns = [
    path("metrics", metrics.metrics, name="metrics"),
]
