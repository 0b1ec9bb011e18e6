from django.urls import path

from triage.views import alarms, alerts, dashboard, flowlogs, org_context, signatures, threat_lists

app_name = "triage"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("alerts/", alerts.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/status/", alerts.alert_status, name="alert-status"),
    path("signatures/", signatures.signature_list, name="signature-list"),
    path("signatures/new/", signatures.signature_new, name="signature-new"),
    path("signatures/<slug:name>/", signatures.signature_detail, name="signature-detail"),
    path("signatures/<slug:name>/edit/", signatures.signature_edit, name="signature-edit"),
    path("signatures/<slug:name>/test/", signatures.signature_test, name="signature-test"),
    path("signatures/<slug:name>/status/", signatures.signature_status, name="signature-status"),
    path("org/", org_context.org_context, name="org"),
    path("alarms/", alarms.alarm_list, name="alarm-list"),
    path("org/sync/", org_context.org_sync, name="org-sync"),
    path("flow-logs/", flowlogs.flowlog_overview, name="flowlogs"),
    path("flow-logs/files/<int:pk>/retry/", flowlogs.flowlog_file_retry, name="flowlog-retry"),
    path("threat-lists/", threat_lists.threat_list_list, name="threat-list-list"),
    path("threat-lists/<slug:name>/", threat_lists.threat_list_detail, name="threat-list-detail"),
    path("threat-lists/<slug:name>/<slug:action>/", threat_lists.threat_list_action, name="threat-list-action"),
]
