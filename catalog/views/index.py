"""The catalog's front page: the products the caller may see, searched as they type."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import selectors


@login_required
def catalog_index(request: HttpRequest) -> HttpResponse:
    products = selectors.products_visible_to(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        products = products.filter(name__icontains=query) | products.filter(description__icontains=query)
    ctx = {"products": products, "q": query, "portfolios": selectors.portfolios_visible_to(user=request.user)}
    template = "catalog/_product_rows.html" if request.htmx else "catalog/index.html"
    return render(request, template, ctx)
