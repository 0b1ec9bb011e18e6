from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("events/", views.event_list, name="event-list"),
    path("events/<str:event_id>/", views.event_detail, name="event-detail"),
    path("files/", views.logfile_list, name="logfile-list"),
    path("files/<int:pk>/retry/", views.logfile_retry, name="logfile-retry"),
]
