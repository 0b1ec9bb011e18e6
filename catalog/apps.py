from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from catalog import selectors
        from catalog.models import Constraint, Guidance, Portfolio, Product, ProductVersion
        from portal.changelog.registry import changelog_register

        changelog_register(Portfolio, visible=lambda user: selectors.portfolios_visible_to(user=user))
        changelog_register(Product, visible=lambda user: selectors.products_visible_to(user=user))
        changelog_register(ProductVersion, visible=lambda user: ProductVersion.objects.filter(
            product__in=selectors.products_visible_to(user=user)).exclude(guidance=Guidance.INACTIVE))
        changelog_register(Constraint, url=lambda c: c.product.get_absolute_url())  # developers never see one
