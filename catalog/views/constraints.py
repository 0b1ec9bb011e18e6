"""A product's constraints: add one, delete one (admins)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalog import services
from catalog.forms import ConstraintForm, constraint_example
from catalog.models import Constraint
from catalog.views.shortcuts import product_or_404
from portal.roles import admin_required
from portal.validation import errors_to_form


@admin_required
@require_http_methods(["GET", "POST"])
def constraint_create(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_or_404(request, pk)
    type_ = request.GET.get("type") or request.POST.get("type") or "TAG"
    form = ConstraintForm(request.POST or None, product=product,
                          initial={"type": type_, "definition": constraint_example(type_)})
    if request.htmx and request.method == "GET":
        return HttpResponse(constraint_example(type_), content_type="text/plain")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.constraint_create(user=request.user, product=product, type=data["type"],
                                       definition=data["definition"], portfolio=data["portfolio"],
                                       description=data["description"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Added a {data['type'].lower()} constraint to {product.name}.")
            return redirect(product)
    return render(request, "catalog/constraint_form.html", {"form": form, "product": product})


@admin_required
@require_POST
def constraint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    constraint = get_object_or_404(Constraint, pk=pk)
    product = constraint.product
    services.constraint_delete(user=request.user, constraint=constraint)
    messages.success(request, "Constraint deleted; its history is kept.")
    return redirect(product)
