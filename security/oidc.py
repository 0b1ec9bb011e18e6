"""OpenID Connect sign-in (mozilla-django-oidc), configured from OIDC_ISSUER_URL by discovery.

mozilla-django-oidc reads each endpoint from a setting; here they come from `<issuer>/.well-known/openid-configuration`,
read once per process. The backend applies the group mapping (security.sso) at every sign-in and refuses people whose
groups map to no role: the callback then shows the refusal page, and no account is made."""

from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView, OIDCLogoutView

from security import sso, sso_session
from security.discovery import ENDPOINTS, discovery, forget_discovery  # noqa: F401  (forget_discovery: tests)


def oidc_setting(attr: str, *default: Any) -> Any:
    if attr in ENDPOINTS:
        return discovery().get(ENDPOINTS[attr]) or (default[0] if default else None)
    return import_from_settings(attr, *default)


class SsoBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def retrieve_matching_jwk(self, token):
        """The provider's key for the ID token. OpenID Connect lets a token omit `kid` when the provider publishes a
        single key (oidc-provider-mock does): then that one key, if its algorithm matches."""
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        alg = jwt.get_unverified_header(token).get("alg")
        keys = [k for k in response.json().get("keys", []) if k.get("alg", alg) == alg and k.get("use", "sig") == "sig"]
        if len(keys) != 1:
            raise SuspiciousOperation("The ID token names no key (kid) and the provider has not exactly one.")
        return jwt.PyJWK(keys[0])

    def get_token(self, payload):
        self._token_info = super().get_token(payload)
        return self._token_info

    def store_tokens(self, access_token, id_token):
        sso_session.remember(self.request.session, getattr(self, "_token_info", {}) or {"id_token": id_token})

    def verify_claims(self, claims: dict) -> bool:
        if not claims.get("sub"):
            return False
        decision = sso.decide(sso.groups_in(claims, settings.OIDC_GROUPS_CLAIM))
        if decision.role is None:
            self.request.sso_refused = sso.refuse(request=self.request, claims=claims, decision=decision,
                                                  provider=settings.OIDC_PROVIDER_NAME)
            return False
        self._decision = decision
        return True

    def filter_users_by_claims(self, claims: dict):
        return self.UserModel.objects.filter(sso_identity__issuer=settings.OIDC_ISSUER_URL,
                                             sso_identity__subject=claims["sub"])

    def _signed_in(self, claims: dict):
        user = sso.sign_in(issuer=settings.OIDC_ISSUER_URL, claims=claims, decision=self._decision)
        user.sso_summary = f"Signed in through {settings.OIDC_PROVIDER_NAME}: {self._decision.describe()}"
        return user

    def create_user(self, claims: dict):
        return self._signed_in(claims)

    def update_user(self, user, claims: dict):
        return self._signed_in(claims)


def _enabled() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404("Single sign-on is off (OIDC_ISSUER_URL is empty).")


class SsoStart(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        _enabled()
        return super().dispatch(request, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if settings.OIDC_ENABLED:
            super().__init__(*args, **kwargs)


class SsoCallback(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        _enabled()
        return super().dispatch(request, *args, **kwargs)

    def login_failure(self):
        refused = getattr(self.request, "sso_refused", None)
        if refused:
            self.request.session["sso_refused"] = refused
            return redirect("security:sso-refused")
        messages.error(self.request, f"Signing in with {settings.OIDC_PROVIDER_NAME} did not succeed. "
                                     "Try again, or ask an admin if it keeps failing.")
        return redirect("login")


def sso_refused(request: HttpRequest) -> HttpResponse:
    _enabled()
    refused = request.session.get("sso_refused") or {}
    return render(request, "security/sso_refused.html",
                  {"provider": settings.OIDC_PROVIDER_NAME, "groups": refused.get("groups", []),
                   "who": refused.get("username", "")}, status=403 if refused else 200)


class SsoLogout(OIDCLogoutView):
    """Sign out here, then at the provider too when it offers RP-initiated logout (its end_session_endpoint)."""

    get_settings = staticmethod(oidc_setting)

    def post(self, request):
        state = request.session.get(sso_session.KEY) or {}
        end = discovery().get("end_session_endpoint") if settings.OIDC_ENABLED and state else None
        auth.logout(request)
        if not end:
            return redirect("login")
        query = urlencode({"id_token_hint": state.get("id_token", ""), "client_id": settings.OIDC_RP_CLIENT_ID,
                           "post_logout_redirect_uri": request.build_absolute_uri(reverse("login"))})
        # A page that moves on to the provider, not a redirect: the portal's CSP lets forms post to itself only
        # (form-action 'self'), and browsers apply that to a form's redirects too.
        return render(request, "security/sso_signed_out.html",
                      {"end_url": f"{end}?{query}", "provider": settings.OIDC_PROVIDER_NAME})
