"""A single sign-on session checked again at the provider: every OIDC_SESSION_REFRESH_SECONDS the refresh token is
exchanged at the token endpoint and the person's groups applied again; a refused refresh (the person disabled, their
tokens revoked) or groups that map to no role sign them out. The refresh token is kept in the session encrypted with a
key derived from SECRET_KEY, and never logged."""

import base64
import hashlib
import logging
import time
from collections.abc import Callable

import requests
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from security import sso
from security.discovery import discovery

logger = logging.getLogger(__name__)
KEY = "sso"


def _fernet() -> Fernet:
    key = hashlib.sha256(b"guardrail-sso-refresh:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def remember(session, token_info: dict) -> None:
    """Keep what a refresh and a sign-out at the provider need: the refresh token (encrypted), the ID token."""
    refresh = token_info.get("refresh_token") or ""
    session[KEY] = {"refresh": _fernet().encrypt(refresh.encode()).decode() if refresh else "",
                    "id_token": token_info.get("id_token") or "", "checked": time.time()}


def _refresh_token(state: dict) -> str:
    try:
        return _fernet().decrypt(state.get("refresh", "").encode()).decode() if state.get("refresh") else ""
    except InvalidToken:
        return ""


def _sign_out(request: HttpRequest, why: str) -> HttpResponse:
    request.user.sso_signed_out = f"Signed out: {why}"  # the LOGOUT audit entry's summary (security.receivers)
    auth.logout(request)
    messages.warning(request, f"You were signed out: {why}.")
    return redirect(settings.LOGIN_URL)


def check(request: HttpRequest) -> HttpResponse | None:
    """None when the session stands (or is not due); else the sign-out's redirect."""
    state = request.session.get(KEY)
    if not state or time.time() - state.get("checked", 0) < settings.OIDC_SESSION_REFRESH_SECONDS:
        return None
    provider = settings.OIDC_PROVIDER_NAME
    refresh = _refresh_token(state)
    if not refresh:
        return _sign_out(request, f"{provider} gave no refresh token, so the session cannot be checked again")
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    basic = (settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET)
    if discovery().get("token_endpoint_auth_methods_supported") == ["client_secret_post"]:
        data.update(client_id=basic[0], client_secret=basic[1])
        basic = None
    try:  # client_secret_basic, the default of OpenID Connect, unless the provider takes client_secret_post only
        response = requests.post(discovery()["token_endpoint"], timeout=settings.OIDC_TIMEOUT, data=data,
                                 auth=basic)
    except requests.RequestException as exc:  # the provider is down: not a refusal; try again on the next request
        logger.warning("single sign-on refresh: %s unreachable (%s)", provider, exc.__class__.__name__)
        return None
    if response.status_code >= 400:
        return _sign_out(request, f"{provider} no longer accepts your session")
    tokens = response.json()
    try:
        claims = requests.get(discovery()["userinfo_endpoint"], timeout=settings.OIDC_TIMEOUT,
                              headers={"Authorization": f"Bearer {tokens['access_token']}"})
        claims.raise_for_status()
        claims = claims.json()
    except (requests.RequestException, KeyError, ValueError) as exc:
        logger.warning("single sign-on refresh: %s userinfo failed (%s)", provider, exc.__class__.__name__)
        return None
    decision = sso.decide(sso.groups_in(claims, settings.OIDC_GROUPS_CLAIM))
    if decision.role is None:
        sso.refuse(request=request, claims=claims, decision=decision, provider=provider)
        return _sign_out(request, f"your groups at {provider} no longer give you a role in Guardrail")
    sso.sign_in(issuer=settings.OIDC_ISSUER_URL, claims=claims, decision=decision)
    remember(request.session, {"refresh_token": tokens.get("refresh_token") or refresh,
                               "id_token": tokens.get("id_token") or state.get("id_token")})
    return None


class SsoRefreshMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.OIDC_ENABLED and request.user.is_authenticated and KEY in request.session:
            signed_out = check(request)
            if signed_out is not None:
                return signed_out
        return self.get_response(request)
