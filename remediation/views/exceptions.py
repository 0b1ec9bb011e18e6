"""Exception pages: the exceptions a person may see, a new one (admins)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from portal.roles import admin_required
from portal.validation import errors_to_form
from remediation import selectors, services
from remediation.forms import ExceptionForm


@login_required
def exception_list(request: HttpRequest) -> HttpResponse:
    return render(request, "remediation/exception_list.html",
                  {"exceptions": selectors.exceptions_visible_to(user=request.user), "now": timezone.now()})


@admin_required
@require_http_methods(["GET", "POST"])
def exception_new(request: HttpRequest) -> HttpResponse:
    form = ExceptionForm(request.POST or None, initial={
        "rule": request.GET.get("rule"), "scope": request.GET.get("scope", "RESOURCE"),
        "value": request.GET.get("value", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.exception_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "Exception saved; the findings it covers now count as excepted.")
            return redirect("remediation:exception-list")
    return render(request, "form.html", {"form": form, "title": "New exception", "multipart": False})
