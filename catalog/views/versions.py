"""A product version: upload one (admins), its page, its guidance (admins), its parameters' diff to another."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from catalog import selectors, services
from catalog.cfn.diagram import render_svg, template_graph
from catalog.cfn.diff import parameter_diff
from catalog.cfn.parameter_spec import ParameterSpec
from catalog.forms import VersionForm
from catalog.views.shortcuts import product_or_404
from portal.request_values import as_id
from portal.roles import admin_required, sees_everything
from portal.validation import errors_to_form


@admin_required
@require_http_methods(["GET", "POST"])
def version_create(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_or_404(request, pk)
    form = VersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = services.version_create(user=request.user, product=product, name=data["name"],
                                              template=data["template"], description=data["description"],
                                              guidance=data["guidance"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Version {version.name} of {product.name} is ready.")
            return redirect(version)
    return render(request, "form.html",
                  {"form": form, "title": f"New version of {product.name}", "multipart": True})


def _version_or_404(request: HttpRequest, pk: int):
    version = selectors.version_for_user(user=request.user, version_id=pk)
    if version is None:
        raise Http404("No such version")
    return version


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    analysis = version.document.analysis
    graph = template_graph(analysis.get("template") or {}, include_parameters=True, include_outputs=True)
    diagram = render_svg(graph)
    others = [v for v in version.product.versions.exclude(pk=version.pk)
              if sees_everything(request.user) or v.guidance != "INACTIVE"]
    ctx = {"version": version, "analysis": analysis, "diagram": mark_safe(diagram),  # noqa: S308 — escaped by render_svg
           "others": others}
    return render(request, "catalog/version_detail.html", ctx)


@admin_required
@require_POST
def version_guidance(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    try:
        services.version_set_guidance(user=request.user, version=version, guidance=request.POST.get("guidance", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"{version} is now {version.get_guidance_display().lower()}.")
    return redirect(version)


@login_required
def version_diff(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    against = request.GET.get("against", "")
    other = _version_or_404(request, as_id(against)) if as_id(against) is not None else None
    if other is None or other.product_id != version.product_id:
        return render(request, "catalog/_diff.html", {"changes": None})
    changes = parameter_diff([ParameterSpec.from_dict(p) for p in other.parameters],
                             [ParameterSpec.from_dict(p) for p in version.parameters])
    return render(request, "catalog/_diff.html", {"changes": changes, "other": other, "version": version})
