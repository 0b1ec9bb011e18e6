"""An account's connection check: started by admins, watched by everyone who sees the account."""

from django.http import Http404, HttpRequest, HttpResponse
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from onboarding import selectors, services
from portal import selectors as portal_selectors
from portal.roles import admin_check


def _account(request: HttpRequest, account_id: str):
    account = portal_selectors.account_for_user(user=request.user, account_id=account_id)
    if account is None:
        raise Http404("No such account")
    return account


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, account_id: str) -> HttpResponse:
    """GET: the latest check (a partial for htmx); POST (admins): a new check."""
    account = _account(request, account_id)
    if request.method == "POST":
        admin_check(request.user)
        found = services.check_start(account=account, user=request.user)
    else:
        found = selectors.check_latest(account=account)
    return _render(request, account, found)


@login_required
@require_GET
def check_detail(request: HttpRequest, account_id: str, check_id: int) -> HttpResponse:
    account = _account(request, account_id)
    found = selectors.check_get(account=account, check_id=check_id)
    if found is None:
        raise Http404("No such check")
    return _render(request, account, found)


def _render(request: HttpRequest, account, found) -> HttpResponse:
    if found is not None:
        found.refresh_from_db()
    template = "onboarding/_check.html" if request.htmx else "onboarding/check.html"
    return render(request, template, {"account": account, "check": found})
