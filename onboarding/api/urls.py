"""onboarding's API routes: /api/accounts/{account_id}/check/."""

from django.urls import path

from onboarding.api import views

urlpatterns = [
    path("accounts/<str:account_id>/check/", views.AccountCheckView.as_view(), name="api-account-check"),
]
