from django.urls import path

from security import oidc
from security.views import audit_log, sso_mappings, tokens

app_name = "security"
urlpatterns = [
    path("audit-log/", audit_log.audit_log, name="audit-log"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("sso/start/", oidc.SsoStart.as_view(), name="sso-start"),
    path("sso/callback/", oidc.SsoCallback.as_view(), name="sso-callback"),
    path("sso/refused/", oidc.sso_refused, name="sso-refused"),
    path("sso/logout/", oidc.SsoLogout.as_view(), name="sso-logout"),
    path("sso/mappings/", sso_mappings.mapping_list, name="sso-mappings"),
    path("sso/mappings/<int:pk>/delete/", sso_mappings.mapping_delete, name="sso-mapping-delete"),
]
