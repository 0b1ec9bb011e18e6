from django.urls import path

from audit.views import events, log_files, resources

app_name = "audit"

urlpatterns = [
    path("events/", events.event_list, name="event-list"),
    path("events/<str:event_id>/", events.event_detail, name="event-detail"),
    path("files/", log_files.logfile_list, name="logfile-list"),
    path("files/<int:pk>/retry/", log_files.logfile_retry, name="logfile-retry"),
    path("resources/", resources.resource_list, name="resource-list"),
    path("resources/<int:pk>/", resources.resource_detail, name="resource-detail"),
    path("resources/<int:pk>/at/", resources.resource_at, name="resource-at"),
    path("recorder/", resources.recorder_status, name="recorder"),
    path("recorder/<str:account_id>/scan/", resources.recorder_scan, name="recorder-scan"),
]
