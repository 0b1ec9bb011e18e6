"""The single sign-on rules page (admins): provider group → role or team, applied at every sign-in."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.models import Team
from portal.roles import Role, admin_required
from security import sso
from security.forms import MappingForm
from security.models import GroupMapping


@admin_required
def mapping_list(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.order_by("name"))
    form = MappingForm(request.POST if request.method == "POST" else None, teams=teams)
    if request.method == "POST" and form.is_valid():
        kind, _, value = form.cleaned_data["target"].partition(":")
        try:
            made = sso.mapping_add(request=request, idp_group=form.cleaned_data["idp_group"],
                                   role=Role(value) if kind == "role" else None,
                                   team=next(t for t in teams if str(t.pk) == value) if kind == "team" else None)
        except sso.MappingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Rule added: group '{made.idp_group}' → {made.role or made.team}.")
            return redirect("security:sso-mappings")
    ctx = {"form": form, "mappings": GroupMapping.objects.select_related("team"),
           "sso_on": settings.OIDC_ENABLED, "provider": settings.OIDC_PROVIDER_NAME,
           "groups_claim": settings.OIDC_GROUPS_CLAIM}
    return render(request, "security/sso_mappings.html", ctx, status=400 if form.errors else 200)


@require_POST
@admin_required
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        gone = sso.mapping_delete(request=request, pk=pk)
    except GroupMapping.DoesNotExist:
        raise Http404("No such rule") from None
    messages.success(request, f"Rule removed: group '{gone.idp_group}' → {gone.role or gone.team}. "
                              "It applies from each person's next sign-in.")
    return redirect("security:sso-mappings")
