"""A person's notifications."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; opening the page marks them read."""
    items = list(request.user.notifications.all()[:100])
    request.user.notifications.filter(read=False).update(read=True)
    return render(request, "portal/notifications.html", {"items": items})
