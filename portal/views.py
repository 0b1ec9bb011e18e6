from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal import selectors, services
from portal.forms import AccountForm
from portal.health import health_report
from portal.roles import is_admin


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    accounts = selectors.accounts_visible_to(user=request.user)
    ctx = {
        "teams": selectors.teams_visible_to(user=request.user),
        "accounts": accounts,
        "regions": selectors.region_counts(accounts=accounts),
        "my_teams": request.user.teams.prefetch_related("accounts"),
    }
    return render(request, "portal/home.html", ctx)


@login_required
def health_panel(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):
        raise PermissionDenied
    return render(request, "portal/_health.html", {"report": health_report()})


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/team_list.html", {"teams": selectors.teams_visible_to(user=request.user)})


@login_required
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    team = selectors.teams_visible_to(user=request.user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team")
    return render(request, "portal/team_detail.html", {"team": team, "members": team.members.order_by("username")})


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = selectors.accounts_visible_to(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        accounts = accounts.filter(name__icontains=query) | accounts.filter(account_id__startswith=query)
    template = "portal/_account_rows.html" if request.htmx else "portal/account_list.html"
    return render(request, template, {"accounts": accounts, "q": query})


@login_required
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    account = selectors.account_for_user(user=request.user, account_id=account_id)
    if account is None:
        raise Http404("No such account")
    return render(request, "portal/account_detail.html", {"account": account})


def _account_form(request: HttpRequest, form: AccountForm, title: str) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.account_ensure(
                account_id=form.instance.account_id or data["account_id"], name=data["name"],
                team=data["team"], allowed_regions=data["allowed_regions"], role_name=data["role_name"],
                cloudtrail_source=data.get("cloudtrail_source") or None,
                config_source=data.get("config_source") or None,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {account}.")
            return redirect(account)
    return render(request, "form.html", {"form": form, "title": title, "multipart": False})


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):
        raise PermissionDenied
    return _account_form(request, AccountForm(request.POST or None), "Add an AWS account")


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: str) -> HttpResponse:
    if not is_admin(request.user):
        raise PermissionDenied
    account = selectors.account_for_user(user=request.user, account_id=account_id)
    if account is None:
        raise Http404("No such account")
    return _account_form(request, AccountForm(request.POST or None, instance=account), f"Edit {account.name}")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; opening the page marks them read."""
    items = list(request.user.notifications.all()[:100])
    request.user.notifications.filter(read=False).update(read=True)
    return render(request, "portal/notifications.html", {"items": items})
