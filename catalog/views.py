from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from catalog import selectors, services
from catalog.cfn.diagram import render_svg, template_graph
from catalog.cfn.diff import parameter_diff
from catalog.cfn.parameters import ParameterSpec
from catalog.forms import ConstraintForm, PortfolioForm, ProductForm, VersionForm, constraint_example
from catalog.launch_form import launch_form_build
from catalog.models import Constraint, Portfolio
from portal.changelog import views as changelog_views
from portal.request_values import as_id
from portal.roles import is_admin, sees_everything
from portal.validation import errors_to_form

OLD_KINDS = {"portfolio": "portfolio", "product": "product", "version": "productversion", "constraint": "constraint"}


def admin_only(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


@login_required
def catalog_index(request: HttpRequest) -> HttpResponse:
    products = selectors.products_visible_to(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        products = products.filter(name__icontains=query) | products.filter(description__icontains=query)
    ctx = {"products": products, "q": query, "portfolios": selectors.portfolios_visible_to(user=request.user)}
    template = "catalog/_product_rows.html" if request.htmx else "catalog/index.html"
    return render(request, template, ctx)


def _portfolio_or_404(request: HttpRequest, pk: int) -> Portfolio:
    portfolio = selectors.portfolios_visible_to(user=request.user).filter(pk=pk).first()
    if portfolio is None:
        raise Http404("No such portfolio")
    return portfolio


@login_required
def portfolio_detail(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _portfolio_or_404(request, pk)
    products = selectors.products_visible_to(user=request.user).filter(portfolios=portfolio)
    return render(request, "catalog/portfolio_detail.html", {"portfolio": portfolio, "products": products})


@admin_only
@require_http_methods(["GET", "POST"])
def portfolio_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    portfolio = get_object_or_404(Portfolio, pk=pk) if pk else None
    initial = {"owner": request.user.get_username()}
    if portfolio:
        initial = {f: getattr(portfolio, f) for f in ("name", "description", "owner", "support_contact")}
        initial["teams"] = portfolio.teams.all()
    def save(data: dict) -> Portfolio:
        if portfolio:
            return services.portfolio_update(user=request.user, portfolio=portfolio, **data)
        return services.portfolio_create(user=request.user, **data)

    title = f"Edit {portfolio.name}" if portfolio else "New portfolio"
    return _save_or_show(request, PortfolioForm(request.POST or None, initial=initial), save, "portfolio", title)


def _save_or_show(request: HttpRequest, form, save, kind: str, title: str) -> HttpResponse:
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


def _product_or_404(request: HttpRequest, pk: int):
    product = selectors.product_for_user(user=request.user, product_id=pk)
    if product is None:
        raise Http404("No such product")
    return product


@login_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(request, pk)
    versions = [v for v in selectors.versions_in_launch_order(product=product)
                if sees_everything(request.user) or v.guidance != "INACTIVE"]
    newest = next((v for v in versions if v.guidance == "DEFAULT"), None)
    diagram = None
    if newest is not None:
        template = newest.document.analysis.get("template") or {}
        diagram = mark_safe(render_svg(template_graph(template)))  # noqa: S308 — render_svg escapes all text
    ctx = {
        "product": product,
        "versions": versions,
        "diagram": diagram,
        "newest": newest,
        "constraints": product.constraints.select_related("portfolio") if sees_everything(request.user) else [],
        "teams": selectors.teams_granted(product=product),
    }
    return render(request, "catalog/product_detail.html", ctx)


@admin_only
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    product = _product_or_404(request, pk) if pk else None
    fields = ("name", "description", "owner", "support_email", "support_url", "support_description")
    initial = {f: getattr(product, f) for f in fields} if product else {}
    if product:
        initial["portfolios"] = product.portfolios.all()
    elif as_id(request.GET.get("portfolio", "")) is not None:
        initial["portfolios"] = Portfolio.objects.filter(pk=as_id(request.GET["portfolio"]))
    def save(data: dict):
        if product:
            return services.product_update(user=request.user, product=product, **data)
        return services.product_create(user=request.user, **data)

    title = f"Edit {product.name}" if product else "New product"
    return _save_or_show(request, ProductForm(request.POST or None, initial=initial), save, "product", title)


@admin_only
@require_http_methods(["GET", "POST"])
def version_create(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(request, pk)
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


@admin_only
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


@admin_only
@require_http_methods(["GET", "POST"])
def constraint_create(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(request, pk)
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


@admin_only
@require_POST
def constraint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    constraint = get_object_or_404(Constraint, pk=pk)
    product = constraint.product
    services.constraint_delete(user=request.user, constraint=constraint)
    messages.success(request, "Constraint deleted; its history is kept.")
    return redirect(product)


@login_required
def product_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Admins (and auditors) see the launch form exactly as a given team's developer would."""
    if not sees_everything(request.user):
        raise PermissionDenied
    product = _product_or_404(request, pk)
    teams = selectors.teams_granted(product=product)
    team = teams.filter(slug=request.GET.get("team", "")).first() or teams.first()
    versions = [v for v in selectors.versions_in_launch_order(product=product) if v.guidance == "DEFAULT"]
    version = next((v for v in versions if str(v.pk) == request.GET.get("version")), versions[0] if versions else None)
    form = None
    if team and version:
        form = launch_form_build(version=version, constraints=list(selectors.constraints_for(product=product,
                                                                                          teams=[team])))
    ctx = {"product": product, "teams": teams, "team": team, "versions": versions, "version": version, "form": form}
    template = "catalog/_launch_form.html" if request.htmx else "catalog/preview.html"
    return render(request, template, ctx)


@login_required
def object_history(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The history's first address (/catalog/history/<kind>/<pk>/), served by the one change log."""
    if kind not in OLD_KINDS:
        raise Http404
    return changelog_views.object_history(request, f"catalog.{OLD_KINDS[kind]}", pk)
