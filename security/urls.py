from django.urls import path

from security.views import audit_log

app_name = "security"
urlpatterns = [
    path("audit-log/", audit_log.audit_log, name="audit-log"),
]
