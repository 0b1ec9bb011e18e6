from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.roles import is_admin
from security import tokens
from security.forms import TokenForm
from security.models import TokenDetails


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """Your API tokens (an admin: everyone's), and a form to make one; a new token is shown once, on this answer."""
    form, made = TokenForm(request.POST if request.method == "POST" else None), None
    if request.method == "POST" and form.is_valid():
        try:
            made = tokens.token_create(user=request.user, request=request, **form.cleaned_data)
        except tokens.TokenError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = TokenForm()
    rows = list(tokens.tokens_visible_to(request.user))
    ctx = {"form": form, "new": made[0] if made else None, "secret": made[1] if made else "",
           "mine": [t for t in rows if t.token.user_id == request.user.pk],
           "others": [t for t in rows if t.token.user_id != request.user.pk], "admin": is_admin(request.user),
           "expired": {t.pk for t in rows if tokens.token_expired(t)}}
    return render(request, "security/tokens.html", ctx, status=400 if form.errors else 200)


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        gone = tokens.token_revoke(actor=request.user, details_id=pk, request=request)
    except TokenDetails.DoesNotExist:
        raise Http404("No such token") from None
    messages.success(request, f"Token {gone.name!r} revoked: it no longer works.")
    return redirect("security:tokens")
