"""The AWS accounts the caller may see, one account's page, and the account form (admins)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal import selectors, services
from portal.forms import AccountForm
from portal.roles import admin_required


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


@admin_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    return _account_form(request, AccountForm(request.POST or None), "Add an AWS account")


@admin_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: str) -> HttpResponse:
    account = selectors.account_for_user(user=request.user, account_id=account_id)
    if account is None:
        raise Http404("No such account")
    return _account_form(request, AccountForm(request.POST or None, instance=account), f"Edit {account.name}")
