"""The actions page: every action run a person may see, filtered."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from remediation import selectors
from remediation.models import ActionStatus, Policy


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET[k] for k in selectors.ACTION_FILTERS if request.GET.get(k)}
    runs = selectors.actions_filter(selectors.actions_visible_to(user=request.user), filters)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(request, "remediation/action_list.html", {
        "page": page, "filters": filters, "statuses": ActionStatus.choices,
        "policies": Policy.objects.values_list("name", flat=True)})
