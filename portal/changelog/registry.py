"""The models whose history the change log shows, registered by their own apps (AppConfig.ready), so portal can
show a higher app's history without importing it."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet

from portal.roles import User


@dataclass(frozen=True)
class Tracked:
    model: type[Model]
    # What a developer may see of it (admins and auditors see everything); None: admins and auditors only.
    visible: Callable[[User], QuerySet] | None = None
    # The object's own page, from the object (None: it has none, or its history page is all there is).
    url: Callable[[Model], str] | None = None

    @property
    def kind(self) -> str:
        return self.model._meta.label_lower  # "catalog.product"

    @property
    def name(self) -> str:
        return str(self.model._meta.verbose_name)


TRACKED: dict[str, Tracked] = {}


def changelog_register(model: type[Model], *, visible: Callable[[User], QuerySet] | None = None,
                       url: Callable[[Model], str] | None = None) -> None:
    tracked = Tracked(model=model, visible=visible, url=url or _absolute_url(model))
    TRACKED[tracked.kind] = tracked


def tracked_get(kind: str) -> Tracked | None:
    return TRACKED.get(kind)


def _absolute_url(model: type[Model]) -> Callable[[Model], str] | None:
    return model.get_absolute_url if hasattr(model, "get_absolute_url") else None
