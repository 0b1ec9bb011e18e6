"""Mounted at /accounts/ before portal's own account routes (so connect/ is not taken for an account id)."""

from django.urls import path

from onboarding.views import checks, connect

urlpatterns = [
    path("connect/", connect.connect, name="account-connect"),
    path("connect/kit/<str:name>.yaml", connect.kit_download, name="account-kit"),
    path("connect/onboard/", connect.onboard, name="account-onboard"),
    path("connect/rules/", connect.rule_add, name="onboarding-rule-add"),
    path("connect/rules/<int:rule_id>/delete/", connect.rule_delete, name="onboarding-rule-delete"),
    path("<str:account_id>/check/", checks.check, name="account-check"),
    path("<str:account_id>/check/<int:check_id>/", checks.check_detail, name="account-check-detail"),
]
