"""The org context page: accounts, principals and the last syncs; (admins) sync now or import a CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.models import Account
from portal.roles import admin_required
from triage import org, selectors


@login_required
def org_context(request: HttpRequest) -> HttpResponse:
    principals = selectors.principals_visible_to(user=request.user)
    if request.GET.get("q"):
        principals = principals.filter(Q(name__icontains=request.GET["q"]) | Q(team__icontains=request.GET["q"]) |
                                       Q(owner_email__icontains=request.GET["q"]))
    return render(request, "triage/org.html", {
        "syncs": org.last_syncs(), "recent": selectors.org_syncs_visible_to(user=request.user),
        "accounts": selectors.org_accounts_visible_to(user=request.user),
        "principals": Paginator(principals, 50).get_page(request.GET.get("page")), "q": request.GET.get("q", ""),
        "portal_accounts": set(Account.objects.values_list("account_id", flat=True)), "columns": org.CSV_COLUMNS})


@admin_required
@require_POST
def org_sync(request: HttpRequest) -> HttpResponse:
    """Sync now (by hand), or import a CSV."""
    upload = request.FILES.get("csv")
    if upload is not None:
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            messages.error(request, "The CSV must be UTF-8 text.")
            return redirect("triage:org")
        runs = [org.csv_import(text, trigger=f"upload by {request.user.get_username()}")]
    else:
        who = f"by hand ({request.user.get_username()})"
        runs = [org.organizations_sync(trigger=who), org.iam_sync(trigger=who)]
    for run in runs:
        if run.status == run.Status.FAILED:
            messages.error(request, f"{run.source}: {run.error}")
        else:
            messages.success(request, f"{run.source}: {run.counts.get('changes', 0)} change(s)"
                                      f"{' — ' + run.error if run.error else ''}.")
    return redirect("triage:org")
