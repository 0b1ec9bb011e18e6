from django.conf import settings
from django.http import HttpRequest

from portal.roles import is_admin, is_auditor, is_developer, primary_role


def navigation(request: HttpRequest) -> dict:
    user = request.user
    return {
        "role": primary_role(user),
        "nav_admin": is_admin(user),
        "nav_auditor": is_auditor(user),
        "nav_developer": is_developer(user),
        "sandbox_enabled": settings.SANDBOX_ENABLED,
        "sso_enabled": settings.OIDC_ENABLED,
        "sso_provider_name": settings.OIDC_PROVIDER_NAME,
        "local_passwords": settings.LOCAL_PASSWORDS,
        "sso_session": settings.OIDC_ENABLED and "sso" in getattr(request, "session", {}),  # security.sso_session
        "unread_notifications": user.notifications.filter(read=False).count() if user.is_authenticated else 0,
    }
