"""A product's page, its form (admins) and the preview of its launch form as a team's developer sees it."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from catalog import selectors, services
from catalog.cfn.diagram import render_svg, template_graph
from catalog.forms import ProductForm
from catalog.launch_form import launch_form_build
from catalog.launch_targets import launch_targets_for
from catalog.models import Portfolio
from catalog.views.shortcuts import product_or_404, save_or_show
from portal.request_values import as_id
from portal.roles import admin_required, sees_everything


@login_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_or_404(request, pk)
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
        "constraints": selectors.constraints_visible_to(user=request.user).filter(product=product).select_related(
            "portfolio"),
        "teams": selectors.teams_granted(product=product),
    }
    return render(request, "catalog/product_detail.html", ctx)


@admin_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    product = product_or_404(request, pk) if pk else None
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
    return save_or_show(request, ProductForm(request.POST or None, initial=initial), save, "product", title)


@login_required
def product_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Admins (and auditors) see the launch form exactly as a given team's developer would."""
    if not sees_everything(request.user):
        raise PermissionDenied
    product = product_or_404(request, pk)
    teams = selectors.teams_granted(product=product)
    team = teams.filter(slug=request.GET.get("team", "")).first() or teams.first()
    versions = [v for v in selectors.versions_in_launch_order(product=product) if v.guidance == "DEFAULT"]
    version = next((v for v in versions if str(v.pk) == request.GET.get("version")), versions[0] if versions else None)
    form = targets = None
    if team and version:
        targets = launch_targets_for(product=product, teams=[team])
        default = targets.default.account.account_id if targets.default else None
        form = launch_form_build(version=version, account_id=default,
                                 constraints=list(selectors.constraints_for(product=product, teams=[team])))
    ctx = {"product": product, "teams": teams, "team": team, "versions": versions, "version": version, "form": form,
           "targets": targets}
    template = "catalog/_launch_form.html" if request.htmx else "catalog/preview.html"
    return render(request, template, ctx)
