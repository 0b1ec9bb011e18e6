"""Writes: rules (validated before they are stored), exceptions, the trend's samples, policies (a new version per
change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.cloudtrail.patterns import compile_pattern
from portal import queue
from remediation.actions import action_by_name
from remediation.compliance import plugins
from remediation.dashboard import counts_by
from remediation.models import ComplianceSample, Finding, Policy, PolicyMode, Rule, RuleException
from remediation.rules.declarative import compile_rule
from remediation.rules.managed import rule_by_name, validate_params

EVALUATE_RULE = "remediation.tasks.evaluate_rule"  # a new or changed rule (None: every rule) over every resource


def _check(kind: str, source: str, parameters: dict[str, Any], definition: dict[str, Any]) -> None:
    if kind == Rule.Kind.MANAGED:
        try:
            impl = rule_by_name(source)
        except KeyError:
            raise ValidationError({"source": f"No managed rule is named {source!r}."}) from None
        try:
            validate_params(impl, {k: str(v) for k, v in parameters.items()})
        except ValueError as exc:
            raise ValidationError({"parameters": str(exc)}) from None
    elif kind == Rule.Kind.DECLARATIVE:
        try:
            compile_rule(definition)
        except ValueError as exc:
            raise ValidationError({"definition": str(exc)}) from None
    elif kind == Rule.Kind.PLUGIN:
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
    for field, value in (("parameters", parameters), ("definition", definition)):
        if not isinstance(value, dict):
            raise ValidationError({field: "Give a JSON object ({...})."})
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
    queue.enqueue(EVALUATE_RULE, rule.pk)
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
    queue.enqueue(EVALUATE_RULE, rule.pk if rule else None)
    return exception


def sample_record() -> int:
    """Counts per rule now, for the trend."""
    now = timezone.now()
    rows = counts_by(Finding.objects.all(), "rule__name")
    rules = dict(Rule.objects.values_list("name", "pk"))
    ComplianceSample.objects.bulk_create([
        ComplianceSample(time=now, rule_id=rules[r["key"]], compliant=r["compliant"],
                         non_compliant=r["non_compliant"], excepted=r["excepted"]) for r in rows if r["key"] in rules])
    return len(rows)


# --- remediation policies ---

POLICY_FIELDS = ("name", "description", "rule", "event_pattern", "actions", "mode", "scope", "max_resources")


def _policy_check(*, name: str, rule: Rule | None, event_pattern: Any, actions: Any, mode: str, scope: Any,
                  max_resources: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not name or slugify(name) != name:
        errors["name"] = ["Use lower-case letters, digits and dashes, like open-ssh-revoke."]
    if (rule is None) == (event_pattern is None):
        errors["rule"] = ["Give either a rule or an event_pattern (one of them)."]
    if event_pattern is not None:
        try:
            compile_pattern(event_pattern)
        except ValueError as exc:
            errors["event_pattern"] = [str(exc)]
    if not isinstance(actions, list) or not actions:
        errors["actions"] = ['Give a list such as [{"action": "revoke_world_ingress"}].']
    else:
        for i, link in enumerate(actions):
            if not isinstance(link, dict) or "action" not in link:
                errors["actions"] = [f"actions[{i}]: give an object with an action name."]
                break
            try:
                action_by_name(link["action"])
            except KeyError as exc:
                errors["actions"] = [f"actions[{i}]: {exc.args[0]}"]
                break
            if not isinstance(link.get("details", {}), dict):
                errors["actions"] = [f"actions[{i}].details: give an object."]
                break
    if mode not in PolicyMode.values:
        errors["mode"] = [f"Give one of {', '.join(PolicyMode.values)}."]
    if not isinstance(scope, dict) or set(scope) - {"accounts", "teams", "tags"}:
        errors["scope"] = ["Give an object with accounts[], teams[] and/or tags{}."]
    if not isinstance(max_resources, int) or isinstance(max_resources, bool) or max_resources < 1:
        errors["max_resources"] = ["Give a whole number of at least 1."]
    if errors:
        raise ValidationError(errors)


def policy_save(*, policy: Any = None, user: Any = None, **values: Any) -> Any:
    """Create a policy, or change one: any change makes a new version (each action run records the version)."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Not a policy field."]})
    defaults = {"description": "", "rule": None, "event_pattern": None, "actions": [], "mode": PolicyMode.DRY_RUN,
                "scope": {}, "max_resources": 10, "name": ""}
    merged = {f: values[f] if f in values else (getattr(policy, f) if policy else defaults[f]) for f in POLICY_FIELDS}
    _policy_check(**{k: v for k, v in merged.items() if k != "description"})
    with transaction.atomic():
        if policy is None:
            if Policy.objects.filter(name=merged["name"]).exists():
                raise ValidationError({"name": [f"A policy named {merged['name']} exists already."]})
            return Policy.objects.create(**merged)
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        changed = {f: v for f, v in merged.items() if getattr(policy, f) != v}
        if not changed:
            return policy
        if "name" in changed and Policy.objects.filter(name=merged["name"]).exclude(pk=policy.pk).exists():
            raise ValidationError({"name": [f"A policy named {merged['name']} exists already."]})
        for field, value in changed.items():
            setattr(policy, field, value)
        policy.version += 1
        policy.save()
        return policy
