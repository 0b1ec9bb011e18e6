"""The teams the caller may see, and one team's page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from portal import selectors


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/team_list.html", {"teams": selectors.teams_visible_to(user=request.user)})


@login_required
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    team = selectors.teams_visible_to(user=request.user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team")
    return render(request, "portal/team_detail.html", {"team": team, "members": team.members.order_by("username")})
