from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from catalog.demo import catalog_demo_seed
        from portal import seeding

        seeding.register("catalog", catalog_demo_seed, order=10,
                         message="Demo catalog: {portfolios} portfolio(s) and {products} product(s) added.")
