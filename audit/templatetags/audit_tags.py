import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def as_json(value: Any, indent: int | None = None) -> str:
    """A value as JSON text (strings without their quotes when short and plain)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=indent, sort_keys=True, default=str)


@register.filter
def short_type(resource_type: str) -> str:
    """``AWS::EC2::SecurityGroup`` -> ``EC2 SecurityGroup``."""
    return " ".join(resource_type.split("::")[1:]) if resource_type.startswith("AWS::") else resource_type


@register.filter
def percent_of(value: int, total: int) -> int:
    return round(100 * value / total) if total else 0
