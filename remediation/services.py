"""Writes: rules (validated before they are stored) and exceptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.models import ConfigResource, ItemStatus
from remediation.models import Rule, RuleException


def _check(kind: str, source: str, parameters: dict[str, Any], definition: dict[str, Any]) -> None:
    if kind == Rule.Kind.MANAGED:
        from remediation.rules.managed import rule_by_name, validate_params

        try:
            impl = rule_by_name(source)
        except KeyError:
            raise ValidationError({"source": f"No managed rule is named {source!r}."}) from None
        try:
            validate_params(impl, {k: str(v) for k, v in parameters.items()})
        except ValueError as exc:
            raise ValidationError({"parameters": str(exc)}) from None
    elif kind == Rule.Kind.DECLARATIVE:
        from remediation.rules.declarative import compile_rule

        try:
            compile_rule(definition)
        except ValueError as exc:
            raise ValidationError({"definition": str(exc)}) from None
    elif kind == Rule.Kind.PLUGIN:
        from remediation.compliance import plugins

        if source not in plugins():
            raise ValidationError({"source": f"No plug-in rule is registered as {source!r} (entry point group "
                                             "guardrail.rules)."})
    else:
        raise ValidationError({"kind": f"Give one of {', '.join(Rule.Kind.values)}."})


def rule_save(*, rule: Rule | None = None, name: str, kind: str, source: str = "", description: str = "",
              parameters: dict[str, Any] | None = None, definition: dict[str, Any] | None = None,
              enabled: bool = True, at_launch: str = Rule.AtLaunch.IGNORE, user: Any = None) -> Rule:
    """Create or change a rule after checking it compiles; then every current resource is evaluated again."""
    parameters, definition = parameters or {}, definition or {}
    if slugify(name) != name:
        raise ValidationError({"name": "Use lower-case letters, digits and dashes, like restricted-ssh."})
    _check(kind, source, parameters, definition)
    if at_launch not in Rule.AtLaunch.values:
        raise ValidationError({"at_launch": f"Give one of {', '.join(Rule.AtLaunch.values)}."})
    rule = rule or Rule(created_by=user)
    for field, value in {"name": name, "kind": kind, "source": source, "description": description,
                         "parameters": parameters, "definition": definition, "enabled": enabled,
                         "at_launch": at_launch}.items():
        setattr(rule, field, value)
    rule.full_clean()
    rule.save()
    from remediation.tasks import evaluate_rule

    transaction.on_commit(lambda: evaluate_rule.delay(rule.pk))
    return rule


def exception_create(*, rule: Rule | None, scope: str, value: str, reason: str, expires: datetime,
                     user: Any = None) -> RuleException:
    errors = {}
    if scope not in RuleException.Scope.values:
        errors["scope"] = f"Give one of {', '.join(RuleException.Scope.values)}."
    if not value.strip():
        errors["value"] = "Name the resource, tag, account or team."
    elif scope == RuleException.Scope.TAG and not value.partition("=")[0]:
        errors["value"] = "Give key=value (or key, for any value)."
    if not reason.strip():
        errors["reason"] = "Say why: auditors read it."
    if expires <= timezone.now():
        errors["expires"] = "An exception must end in the future."
    if errors:
        raise ValidationError(errors)
    exception = RuleException.objects.create(rule=rule, scope=scope, value=value.strip(), reason=reason.strip(),
                                             expires=expires, created_by=user)
    from remediation.tasks import evaluate_rule

    transaction.on_commit(lambda: evaluate_rule.delay(rule.pk if rule else None))
    return exception


def current_resource_ids() -> list[int]:
    return list(ConfigResource.objects.exclude(status=ItemStatus.DELETED).values_list("pk", flat=True))
