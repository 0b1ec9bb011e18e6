"""Login throttling before any login form sees the password; the audit log of refusals and admins' writes."""

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from portal.auth_forms import LoginForm
from portal.roles import is_admin
from security import services
from security.models import AuditEntry

logger = logging.getLogger(__name__)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _login_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}


class LoginThrottleMiddleware:
    """A POST to a login form for a username or from an address that is locked out is refused with 429,
    before the password is checked (so a locked-out attacker learns nothing, even with the right one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in _login_paths():
            username = request.POST.get("username", "")[:150]
            until = services.login_locked_until(username=username, ip=services.client_ip(request))
            if until is not None:
                return self._refuse(request, username, until)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, username: str, until) -> HttpResponse:
        minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
        message = (f"Too many failed sign-ins for this username or from this address. Try again after "
                   f"{until:%H:%M} UTC (in about {minutes} minute{'s' if minutes != 1 else ''}).")
        services.audit_record(kind=AuditEntry.Kind.LOGIN_REFUSED, request=request, username=username, status=429,
                              summary=f"Locked out until {until:%H:%M} UTC")
        response = render(request, "portal/login.html", {"form": LoginForm(request, initial={"username": username}),
                                                          "locked_message": message}, status=429)
        response["Retry-After"] = str(minutes * 60)
        return response


class AuditLogMiddleware:
    """Every 403 (views, the API, CSRF failures) and every write an admin made that succeeded. The row says
    which view and object, never the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            self._record(request, response)
        except DatabaseError:
            logger.exception("audit log: could not record %s %s", request.method, request.path)
        return response

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponse) -> None:
        user = getattr(request, "user", None)  # the API's token user too: DRF sets it on the Django request
        if response.status_code == 403:
            services.audit_record(kind=AuditEntry.Kind.DENIED, request=request, user=user, status=403,
                                  summary=f"Refused: {_view(request)}")
        elif (request.method in WRITES and response.status_code < 400 and user is not None
              and user.is_authenticated and is_admin(user) and request.path not in _login_paths()
              and request.path != reverse("logout")):
            services.audit_record(kind=AuditEntry.Kind.ADMIN_WRITE, request=request, user=user,
                                  status=response.status_code, summary=_view(request))


def _view(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "no view"
    args = " ".join(f"{k}={v}" for k, v in match.kwargs.items())
    return f"{match.view_name} {args}".strip()
