from django.urls import path

from remediation import policy_views, views

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
    path("policies/", policy_views.policy_list, name="policy-list"),
    path("policies/new/", policy_views.policy_new, name="policy-new"),
    path("policies/<slug:name>/", policy_views.policy_detail, name="policy-detail"),
    path("policies/<slug:name>/edit/", policy_views.policy_edit, name="policy-edit"),
    path("policies/<slug:name>/mode/", policy_views.policy_mode, name="policy-mode"),
    path("patterns/test/", policy_views.pattern_test, name="pattern-test"),
    path("actions/", policy_views.action_list, name="action-list"),
    path("dry-runs/", policy_views.dry_run_list, name="dry-run-list"),
    path("dry-runs/<int:pk>/", policy_views.dry_run_detail, name="dry-run-detail"),
    path("dry-runs/<int:pk>/apply/", policy_views.dry_run_apply, name="dry-run-apply"),
]
