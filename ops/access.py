"""Who may read /metrics: an admin (session or API token), or a scraper with the METRICS_TOKEN bearer token."""

import hmac

from django.conf import settings
from django.http import HttpRequest
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from portal.roles import User


def metrics_token_ok(request: HttpRequest) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; never when no token is set."""
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def caller(request: HttpRequest) -> User | None:
    """The person behind the session or the API token (`Authorization: Token …`), None for nobody or a bad token."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None
