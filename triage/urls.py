from django.urls import path

from triage import flow_views, views

app_name = "triage"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/status/", views.alert_status, name="alert-status"),
    path("signatures/", views.signature_list, name="signature-list"),
    path("signatures/new/", views.signature_new, name="signature-new"),
    path("signatures/<slug:name>/", views.signature_detail, name="signature-detail"),
    path("signatures/<slug:name>/edit/", views.signature_edit, name="signature-edit"),
    path("signatures/<slug:name>/test/", views.signature_test, name="signature-test"),
    path("signatures/<slug:name>/status/", views.signature_status, name="signature-status"),
    path("org/", views.org_context, name="org"),
    path("alarms/", views.alarm_list, name="alarm-list"),
    path("org/sync/", views.org_sync, name="org-sync"),
    path("flow-logs/", flow_views.flowlog_overview, name="flowlogs"),
    path("flow-logs/files/<int:pk>/retry/", flow_views.flowlog_file_retry, name="flowlog-retry"),
    path("threat-lists/", flow_views.threat_list_list, name="threat-list-list"),
    path("threat-lists/<slug:name>/", flow_views.threat_list_detail, name="threat-list-detail"),
    path("threat-lists/<slug:name>/<slug:action>/", flow_views.threat_list_action, name="threat-list-action"),
]
