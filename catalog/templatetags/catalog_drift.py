"""{% launch_drift launch %}: the launch page's drift card, rendered with the page (catalog/_launch_drift.html)."""

from django import template

from catalog.views.drift import drift_context

register = template.Library()


@register.inclusion_tag("catalog/_launch_drift.html", takes_context=True)
def launch_drift(context, launch):
    return drift_context(context["request"].user, launch)
