"""Reads of the catalog, scoped to what the caller may see."""

from django.db.models import Prefetch, Q, QuerySet

from catalog.models import Constraint, Guidance, LaunchRequest, Portfolio, Product, ProductVersion
from portal.models import Team
from portal.roles import User, is_developer, sees_everything


def portfolios_visible_to(*, user: User) -> QuerySet[Portfolio]:
    portfolios = Portfolio.objects.prefetch_related("teams")
    if sees_everything(user):
        return portfolios
    if is_developer(user):
        return portfolios.filter(teams__members=user).distinct()
    return portfolios.none()


def products_visible_to(*, user: User) -> QuerySet[Product]:
    """Admins and auditors see every product; developers those their teams are granted."""
    products = Product.objects.all()
    if not sees_everything(user):
        if not is_developer(user):
            return products.none()
        products = products.filter(portfolios__teams__members=user).distinct()
    versions = ProductVersion.objects.order_by("-created", "-id").only("id", "name", "guidance", "product_id")
    if not sees_everything(user):
        versions = versions.exclude(guidance=Guidance.INACTIVE)
    return products.prefetch_related(
        Prefetch("versions", queryset=versions),
        Prefetch("portfolios", queryset=portfolios_visible_to(user=user)),
    )


def product_for_user(*, user: User, product_id: int) -> Product | None:
    return products_visible_to(user=user).filter(pk=product_id).first()


def version_for_user(*, user: User, version_id: int) -> ProductVersion | None:
    version = ProductVersion.objects.select_related("product", "document").filter(pk=version_id).first()
    if version is None or product_for_user(user=user, product_id=version.product_id) is None:
        return None
    if version.guidance == Guidance.INACTIVE and not sees_everything(user):
        return None
    return version


def constraints_visible_to(*, user: User) -> QuerySet[Constraint]:
    """Admins and auditors see every constraint; developers none."""
    if not sees_everything(user):
        return Constraint.objects.none()
    return Constraint.objects.all()


def versions_in_launch_order(*, product: Product) -> list[ProductVersion]:
    """DEFAULT versions first (newest first), then DEPRECATED, then INACTIVE."""
    rank = {Guidance.DEFAULT: 0, Guidance.DEPRECATED: 1, Guidance.INACTIVE: 2}
    versions = list(product.versions.all())
    return sorted(versions, key=lambda v: (rank[v.guidance], -v.created.timestamp(), -v.pk))


def constraints_for(*, product: Product, teams: QuerySet[Team] | list[Team] | None) -> QuerySet[Constraint]:
    """Constraints that apply to a launch of `product` by members of `teams` (None: every constraint)."""
    constraints = product.constraints.select_related("portfolio")
    if teams is None:
        return constraints
    granted = Portfolio.objects.filter(teams__in=teams, products=product)
    return constraints.filter(Q(portfolio__isnull=True) | Q(portfolio__in=granted)).distinct()


def teams_granted(*, product: Product) -> QuerySet[Team]:
    return Team.objects.filter(portfolios__products=product).distinct().order_by("name")


def launches_visible_to(*, user: User) -> QuerySet[LaunchRequest]:
    """Admins and auditors see every launch; developers their own."""
    launches_ = LaunchRequest.objects.select_related("owner", "team", "version", "product").prefetch_related(
        "transitions")
    if sees_everything(user):
        return launches_
    if is_developer(user):
        return launches_.filter(owner=user)
    return launches_.none()
