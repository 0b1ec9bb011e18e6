"""The OpenID Connect provider's discovery document (`<OIDC_ISSUER_URL>/.well-known/openid-configuration`): its
endpoints, read once per process."""

import threading
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ENDPOINTS = {"OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint", "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
             "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint", "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
             "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint"}
_documents: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def discovery() -> dict[str, Any]:
    """The provider's discovery document (cached per issuer). ImproperlyConfigured, naming OIDC_ISSUER_URL, when it
    cannot be read or is not the issuer's."""
    issuer = settings.OIDC_ISSUER_URL
    if not issuer:
        raise ImproperlyConfigured("OIDC_ISSUER_URL is empty: single sign-on is off")
    with _lock:
        if issuer in _documents:
            return _documents[issuer]
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ImproperlyConfigured(f"OIDC_ISSUER_URL={issuer!r}: its discovery document {url} cannot be read "
                                       f"({exc.__class__.__name__}: {str(exc)[:200]})") from None
        if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
            raise ImproperlyConfigured(f"OIDC_ISSUER_URL={issuer!r}: {url} names another issuer "
                                       f"({document.get('issuer') if isinstance(document, dict) else document!r})")
        missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)]
        if missing:
            raise ImproperlyConfigured(f"OIDC_ISSUER_URL={issuer!r}: {url} has no {', '.join(missing)}")
        _documents[issuer] = document
        return document


def forget_discovery() -> None:
    with _lock:
        _documents.clear()
