from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ops import views as ops_views
from portal import views
from portal.auth_forms import LoginForm
from portal.changelog import views as changelog_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("health/panel/", views.health_panel, name="health-panel"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="portal/login.html", authentication_form=LoginForm,
                                     redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("notifications/", views.notifications, name="notifications"),
    path("teams/", views.team_list, name="team-list"),
    path("teams/<slug:slug>/", views.team_detail, name="team-detail"),
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/new/", views.account_create, name="account-create"),
    path("accounts/<str:account_id>/", views.account_detail, name="account-detail"),
    path("accounts/<str:account_id>/edit/", views.account_edit, name="account-edit"),
    path("changelog/", changelog_views.change_log, name="change-log"),
    path("changelog/<str:kind>/<int:pk>/", changelog_views.object_history, name="object-history"),
    path("changelog/<str:kind>/<int:pk>/<int:history_id>/", changelog_views.change_detail, name="change-detail"),
    path("catalog/", include("catalog.urls")),
    path("audit/", include("audit.urls")),
    path("compliance/", include("remediation.urls")),
    path("triage/", include("triage.urls")),
    path("ops/", include("ops.urls")),
    path("metrics", ops_views.metrics, name="metrics"),
    path("security/", include("security.urls")),
    path("api/", include("portal.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.forbidden"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
