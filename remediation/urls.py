from django.urls import path

from remediation.views import actions, dry_runs, exceptions, findings, policies, rules

app_name = "remediation"

urlpatterns = [
    path("", findings.compliance_dashboard, name="dashboard"),
    path("findings/", findings.finding_list, name="finding-list"),
    path("findings/<int:pk>/fix/", findings.finding_fix, name="finding-fix"),
    path("rules/", rules.rule_list, name="rule-list"),
    path("rules/new/", rules.rule_new, name="rule-new"),
    path("rules/test/", rules.rule_test, name="rule-test"),
    path("rules/<slug:name>/", rules.rule_detail, name="rule-detail"),
    path("rules/<slug:name>/edit/", rules.rule_edit, name="rule-edit"),
    path("exceptions/", exceptions.exception_list, name="exception-list"),
    path("exceptions/new/", exceptions.exception_new, name="exception-new"),
    path("policies/", policies.policy_list, name="policy-list"),
    path("policies/new/", policies.policy_new, name="policy-new"),
    path("policies/<slug:name>/", policies.policy_detail, name="policy-detail"),
    path("policies/<slug:name>/edit/", policies.policy_edit, name="policy-edit"),
    path("policies/<slug:name>/mode/", policies.policy_mode, name="policy-mode"),
    path("patterns/test/", policies.pattern_test, name="pattern-test"),
    path("actions/", actions.action_list, name="action-list"),
    path("dry-runs/", dry_runs.dry_run_list, name="dry-run-list"),
    path("dry-runs/<int:pk>/", dry_runs.dry_run_detail, name="dry-run-detail"),
    path("dry-runs/<int:pk>/apply/", dry_runs.dry_run_apply, name="dry-run-apply"),
]
