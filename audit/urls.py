from django.urls import path

from audit import resource_views, views

app_name = "audit"

urlpatterns = [
    path("events/", views.event_list, name="event-list"),
    path("events/<str:event_id>/", views.event_detail, name="event-detail"),
    path("files/", views.logfile_list, name="logfile-list"),
    path("files/<int:pk>/retry/", views.logfile_retry, name="logfile-retry"),
    path("resources/", resource_views.resource_list, name="resource-list"),
    path("resources/<int:pk>/", resource_views.resource_detail, name="resource-detail"),
    path("resources/<int:pk>/at/", resource_views.resource_at, name="resource-at"),
    path("recorder/", resource_views.recorder_status, name="recorder"),
    path("recorder/<str:account_id>/scan/", resource_views.recorder_scan, name="recorder-scan"),
]
