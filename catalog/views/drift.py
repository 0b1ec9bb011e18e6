"""A launch's drift on its page: the latest check's result (htmx partial) and the button that asks for one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from catalog import drift
from catalog.models import LaunchRequest
from catalog.selectors import launches_visible_to
from portal.roles import is_admin


def drift_context(user, launch: LaunchRequest) -> dict:
    """What the drift partial shows: the latest finished check, one waiting, and whether `user` may ask."""
    return {"launch": launch, "drift": drift.drift_latest(launch), "drift_waiting": drift.drift_waiting(launch),
            "drift_may_ask": launch.owner_id == user.pk or is_admin(user)}


@login_required
@require_http_methods(["GET", "POST"])
def launch_drift(request: HttpRequest, pk: int) -> HttpResponse:
    launch = launches_visible_to(user=request.user).filter(pk=pk).first()
    if launch is None:
        raise Http404("No such launch")
    error = ""
    if request.method == "POST":
        try:
            drift.drift_check_ask(user=request.user, launch=launch)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect(launch.get_absolute_url() + "#drift")
    return render(request, "catalog/_launch_drift.html", {**drift_context(request.user, launch), "drift_error": error})
