from django.urls import path

from remediation import views

app_name = "remediation"

urlpatterns = [
    path("", views.compliance_dashboard, name="dashboard"),
    path("findings/", views.finding_list, name="finding-list"),
    path("findings/<int:pk>/fix/", views.finding_fix, name="finding-fix"),
    path("rules/", views.rule_list, name="rule-list"),
    path("rules/new/", views.rule_new, name="rule-new"),
    path("rules/test/", views.rule_test, name="rule-test"),
    path("rules/<slug:name>/", views.rule_detail, name="rule-detail"),
    path("rules/<slug:name>/edit/", views.rule_edit, name="rule-edit"),
    path("exceptions/", views.exception_list, name="exception-list"),
    path("exceptions/new/", views.exception_new, name="exception-new"),
]
