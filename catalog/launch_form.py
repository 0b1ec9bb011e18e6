"""The launch form a developer sees: the version's parameters shaped by the product's constraints.

One function builds it for the browser, the API and (in the launch issue) the server-side check,
so what the form offers and what the server accepts can never disagree.
"""

from typing import Any

from catalog.cfn.rules import allowed_values_from_rules, referenced_parameters
from catalog.models import Constraint, ConstraintType, ProductVersion
from portal import aws


def _rules_of(version: ProductVersion, constraints: list[Constraint]) -> list[tuple[str, dict]]:
    """(source, rules) pairs: the template's own Rules section, then each TEMPLATE constraint."""
    out = []
    own = version.document.analysis.get("rules") or {}
    if own:
        out.append(("template", own))
    out += [(f"constraint {c.pk}", c.definition["Rules"]) for c in constraints if c.type == ConstraintType.TEMPLATE]
    return out


def _rule_notes(rules: dict, key: str) -> list[str]:
    notes = []
    for name, rule in rules.items():
        if key in referenced_parameters({name: rule}):
            notes += [a.get("AssertDescription", name) for a in rule.get("Assertions", [])]
    return notes


def _field(spec: dict, constraints: list[Constraint], rule_sets: list[tuple[str, dict]]) -> dict[str, Any]:
    key = spec["key"]
    allowed = list(spec.get("allowed_values") or [])
    value = "" if spec.get("no_echo") else (spec.get("default") or "")
    locked = False
    for c in constraints:
        d = c.definition
        if c.type != ConstraintType.PARAMETER or d.get("key") != key:
            continue
        if "value" in d:
            value, locked = d["value"], locked or bool(d.get("locked"))
        if d.get("hidden_values"):
            allowed = [v for v in allowed if v not in d["hidden_values"]]
    notes: list[str] = []
    for _, rules in rule_sets:
        limited = allowed_values_from_rules(rules, key)
        if limited is not None:
            allowed = [v for v in allowed if v in limited] if allowed else list(limited)
        notes += _rule_notes(rules, key)
    return {
        "key": key,
        "type": spec.get("type"),
        "label": spec.get("label") or key,
        "description": spec.get("description") or "",
        "group": spec.get("group"),
        "default": None if spec.get("no_echo") else spec.get("default"),
        "allowed_values": allowed,
        "allowed_pattern": spec.get("allowed_pattern"),
        "min_length": spec.get("min_length"),
        "max_length": spec.get("max_length"),
        "min_value": spec.get("min_value"),
        "max_value": spec.get("max_value"),
        "no_echo": bool(spec.get("no_echo")),
        "constraint_description": spec.get("constraint_description"),
        "locked": locked,
        "value": value,
        "rules": notes,
    }


def _launch_role(constraints: list[Constraint], account_id: str | None) -> str | None:
    """The role the launch runs as: role_arn, or local_role_name in the launch's account (unknown: its name)."""
    launch = next((c.definition for c in constraints if c.type == ConstraintType.LAUNCH), None)
    if launch is None:
        return None
    if launch.get("local_role_name"):
        name = launch["local_role_name"]
        return aws.role_arn(account_id, name) if account_id else name
    return launch.get("role_arn")


def launch_form_build(*, version: ProductVersion, constraints: list[Constraint], account_id: str | None = None
                      ) -> dict[str, Any]:
    rule_sets = _rules_of(version, constraints)
    specs = sorted(version.parameters, key=lambda p: p.get("order", 0))
    tags = [{"key": c.definition["key"], "value": c.definition["value"], "locked": c.definition.get("locked", False)}
            for c in constraints if c.type == ConstraintType.TAG]
    launch = _launch_role(constraints, account_id)
    return {
        "product": version.product_id,
        "version": version.pk,
        "version_name": version.name,
        "guidance": version.guidance,
        "parameters": [_field(spec, constraints, rule_sets) for spec in specs],
        "tags": tags,
        "launch_role_arn": launch,
        "rules": [{"source": source, "rules": rules} for source, rules in rule_sets],
    }
