from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.auth_forms import LoginForm
from portal.changelog import views as changelog_views
from portal.views import accounts, home, notifications, teams

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("health/panel/", home.health_panel, name="health-panel"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="portal/login.html", authentication_form=LoginForm,
                                     redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("teams/", teams.team_list, name="team-list"),
    path("teams/<slug:slug>/", teams.team_detail, name="team-detail"),
    path("accounts/", accounts.account_list, name="account-list"),
    path("accounts/", include("onboarding.urls")),  # connect/ and <id>/check/, before <id>/ takes them
    path("accounts/new/", accounts.account_create, name="account-create"),
    path("accounts/<str:account_id>/", accounts.account_detail, name="account-detail"),
    path("accounts/<str:account_id>/edit/", accounts.account_edit, name="account-edit"),
    path("changelog/", changelog_views.change_log, name="change-log"),
    path("changelog/<str:kind>/<int:pk>/", changelog_views.object_history, name="object-history"),
    path("changelog/<str:kind>/<int:pk>/<int:history_id>/", changelog_views.change_detail, name="change-detail"),
    path("catalog/", include("catalog.urls")),
    path("audit/", include("audit.urls")),
    path("compliance/", include("remediation.urls")),
    path("triage/", include("triage.urls")),
    path("ops/", include("ops.urls")),
    path("", include("ops.metrics_urls")),
    path("security/", include("security.urls")),
    path("api/", include("portal.api.urls")),
    path("api/", include("catalog.api.urls")),
    path("api/", include("audit.api.urls")),
    path("api/", include("remediation.api.urls")),
    path("api/", include("triage.api.urls")),
    path("api/", include("onboarding.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "portal.views.errors.bad_request"
handler403 = "portal.views.errors.forbidden"
handler404 = "portal.views.errors.not_found"
handler500 = "portal.views.errors.server_error"
