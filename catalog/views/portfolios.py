"""A portfolio's page and its form (admins)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from catalog import selectors, services
from catalog.forms import PortfolioForm
from catalog.models import Portfolio
from catalog.views.shortcuts import save_or_show
from portal.roles import admin_required


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


@admin_required
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
    return save_or_show(request, PortfolioForm(request.POST or None, initial=initial), save, "portfolio", title)
