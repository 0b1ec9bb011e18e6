from django.urls import path

from ops.views import operations

app_name = "ops"

urlpatterns = [
    path("", operations.overview, name="overview"),
]
