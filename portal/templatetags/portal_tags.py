from django import template
from django.conf import settings

from portal.demo import DEMO_PEOPLE

register = template.Library()


@register.simple_tag
def demo_logins() -> dict | None:
    if not settings.DEMO_LOGINS:
        return None
    return {"password": settings.DEMO_PASSWORD, "people": DEMO_PEOPLE}
