"""What several of the catalog's page groups share: the product the caller may see, a form saved through its
service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from catalog import selectors
from portal.validation import errors_to_form


def save_or_show(request: HttpRequest, form, save, kind: str, title: str) -> HttpResponse:
    """Save a valid POSTed form through its service and go to the object; else show the form and its errors."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Saved {kind} {obj.name}.")
            return redirect(obj)
    return render(request, "form.html", {"form": form, "title": title, "multipart": False})


def product_or_404(request: HttpRequest, pk: int):
    product = selectors.product_for_user(user=request.user, product_id=pk)
    if product is None:
        raise Http404("No such product")
    return product
