from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The self-service catalog: portfolios, products, versions, constraints and launches.

    models; services (writes) and selectors (reads scoped to the caller, one `…_visible_to` per model); launches
    (what people ask of a launch: create, update, terminate, each checked and moved by a guarded transition) and
    provisioning/launches (the state machine the workers run: provision, watch, update, terminate, registered with
    portal.runs) with tasks (thin Celery wrappers); stacks (CloudFormation through the AWS boundary); drift (each
    launch's drift checks, DriftCheck runs, the owner and admins told once per drift); launch_form,
    launch_values (the server-side check of what is launched), launch_checks (the guardrails other apps register)
    and noecho (NoEcho values encrypted at rest); constraint_definitions; forms; views/ (index, portfolios,
    products, versions, constraints, launches, the first history address; shortcuts they share); api/
    (serializers, views, urls); cfn/ and provisioning/progress (Django-free: templates, launch progress); demo/.
    """

    name = "catalog"

    def ready(self) -> None:
        from catalog.demo import catalog_demo_seed
        from portal import seeding

        seeding.register("catalog", catalog_demo_seed, order=10,
                         message="Demo catalog: {portfolios} portfolio(s) and {products} product(s) added.")
        from catalog import selectors
        from catalog.models import Constraint, Guidance, Portfolio, Product, ProductVersion
        from portal.changelog.registry import changelog_register

        changelog_register(Portfolio, visible=lambda user: selectors.portfolios_visible_to(user=user))
        changelog_register(Product, visible=lambda user: selectors.products_visible_to(user=user))
        changelog_register(ProductVersion, visible=lambda user: ProductVersion.objects.filter(
            product__in=selectors.products_visible_to(user=user)).exclude(guidance=Guidance.INACTIVE))
        changelog_register(Constraint, url=lambda c: c.product.get_absolute_url())  # developers never see one
        from catalog.provisioning import launches

        launches.runs_register()
        from catalog import drift

        drift.runs_register()
