"""The History tab and the recent changes of an object, for any registered model's page."""

from django import template
from django.db.models import Model
from django.urls import reverse

from portal.changelog import selectors
from portal.changelog.registry import tracked_get

register = template.Library()


@register.simple_tag
def history_url(obj: Model) -> str:
    return reverse("object-history", args=[obj._meta.label_lower, obj.pk])


@register.inclusion_tag("portal/changelog/_recent.html", takes_context=True)
def recent_changes(context, obj: Model, limit: int = 5, testid: str = "history") -> dict:
    """The object's newest changes (with their diffs) and a link to its whole history: the page showing the object
    has already checked that its reader may see it."""
    tracked = tracked_get(obj._meta.label_lower)
    records = selectors.object_records(tracked=tracked, object_id=obj.pk)[:limit]
    return {"entries": selectors.entries_of(records, tracked), "url": history_url(obj), "testid": testid,
            "nav_admin": context.get("nav_admin"), "nav_auditor": context.get("nav_auditor")}
