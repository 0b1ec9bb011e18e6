from django.urls import include, path

from bench.page_throughput import bare_view

urlpatterns = [path("bench/bare/", bare_view), path("", include("portal.urls"))]
