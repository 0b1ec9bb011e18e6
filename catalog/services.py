"""Writes to the catalog. Keyword-only and typed; each records who made the change in the history."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.cfn.analysis import analyze
from catalog.cfn.loader import content_hash
from catalog.constraint_definitions import constraint_definition_clean
from catalog.models import Constraint, Guidance, Portfolio, Product, ProductVersion, TemplateDocument
from portal.models import Team

MAX_TEMPLATE_BYTES = 1_000_000


class TemplateRefused(ValidationError):
    """The template does not parse or has lint errors; `messages` carry line numbers."""


def _save(obj, user: AbstractBaseUser | None) -> None:
    obj._history_user = user
    obj.full_clean()
    obj.save()


@transaction.atomic
def portfolio_create(*, user: AbstractBaseUser | None, name: str, owner: str, description: str = "",
                     support_contact: str = "", teams: Iterable[Team] = ()) -> Portfolio:
    portfolio = Portfolio(name=name, owner=owner, description=description, support_contact=support_contact)
    _save(portfolio, user)
    portfolio.teams.set(list(teams))
    return portfolio


@transaction.atomic
def portfolio_update(*, user: AbstractBaseUser | None, portfolio: Portfolio, teams: Iterable[Team] | None = None,
                     **fields: str) -> Portfolio:
    for name, value in fields.items():
        setattr(portfolio, name, value)
    _save(portfolio, user)
    if teams is not None:
        portfolio.teams.set(list(teams))
    return portfolio


@transaction.atomic
def product_create(*, user: AbstractBaseUser | None, name: str, portfolios: Iterable[Portfolio],
                   description: str = "", owner: str = "", support_email: str = "", support_url: str = "",
                   support_description: str = "") -> Product:
    product = Product(name=name, description=description, owner=owner, support_email=support_email,
                      support_url=support_url, support_description=support_description)
    _save(product, user)
    product.portfolios.set(list(portfolios))
    return product


@transaction.atomic
def product_update(*, user: AbstractBaseUser | None, product: Product,
                   portfolios: Iterable[Portfolio] | None = None, **fields: str) -> Product:
    for name, value in fields.items():
        setattr(product, name, value)
    _save(product, user)
    if portfolios is not None:
        product.portfolios.set(list(portfolios))
    return product


def document_for(*, text: str) -> TemplateDocument:
    """The stored document for this exact text, analysed once; TemplateRefused if it is not a usable template."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEMPLATE_BYTES:  # said before anything reads it
        raise TemplateRefused({"template": [f"The template is {size:,} bytes; CloudFormation takes at most "
                                            f"{MAX_TEMPLATE_BYTES:,} bytes."]})
    existing = TemplateDocument.objects.filter(content_hash=content_hash(text)).first()
    if existing:  # analysed before: parsing and linting cost nothing the second time
        return existing
    analysis = analyze(text)
    if not analysis.ok:
        raise TemplateRefused({"template": [str(m) for m in analysis.errors]})
    try:
        with transaction.atomic():
            return TemplateDocument.objects.create(content_hash=analysis.content_hash, body=text,
                                                   format=analysis.format, analysis=analysis.as_dict())
    except IntegrityError:  # the same text stored by a concurrent upload
        return TemplateDocument.objects.get(content_hash=analysis.content_hash)


@transaction.atomic
def version_create(*, user: AbstractBaseUser | None, product: Product, name: str, template: str,
                   description: str = "", guidance: str = Guidance.DEFAULT) -> ProductVersion:
    if product.versions.filter(name=name).exists():
        raise ValidationError({"name": f"{product.name} already has a version named {name!r}."})
    version = ProductVersion(product=product, name=name, description=description, guidance=guidance,
                             document=document_for(text=template), created_by=user)
    _save(version, user)
    return version


def version_set_guidance(*, user: AbstractBaseUser | None, version: ProductVersion, guidance: str) -> ProductVersion:
    if guidance not in Guidance.values:
        raise ValidationError({"guidance": f"Use one of {', '.join(Guidance.values)}."})
    version.guidance = guidance
    _save(version, user)
    return version


def product_parameter_keys(*, product: Product) -> set[str]:
    keys: set[str] = set()
    for analysis in product.versions.values_list("document__analysis", flat=True):
        keys |= {p["key"] for p in analysis.get("parameters", [])}
    return keys


@transaction.atomic
def constraint_create(*, user: AbstractBaseUser | None, product: Product, type: str, definition: dict,
                      portfolio: Portfolio | None = None, description: str = "") -> Constraint:
    clean = constraint_definition_clean(type=type, definition=definition,
                                        parameter_keys=product_parameter_keys(product=product))
    if portfolio is not None and not product.portfolios.filter(pk=portfolio.pk).exists():
        raise ValidationError({"portfolio": f"{product.name} is not in the portfolio {portfolio.name}."})
    if type == "LAUNCH" and product.constraints.filter(type="LAUNCH", portfolio=portfolio).exists():
        raise ValidationError({"type": "This product already has a launch constraint there; delete it first."})
    constraint = Constraint(product=product, portfolio=portfolio, type=type, definition=clean,
                            description=description)
    _save(constraint, user)
    return constraint


def constraint_delete(*, user: AbstractBaseUser | None, constraint: Constraint) -> None:
    constraint._history_user = user
    constraint.delete()  # its history stays, ending in a deletion record
