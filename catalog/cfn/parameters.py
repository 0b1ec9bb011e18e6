"""A template's parameters as typed specs (what the launch form renders), and their defects.

Every CloudFormation parameter attribute is kept, plus the AWS::CloudFormation::Interface label,
group and order the console would show. CloudFormation reads constraint numbers and Defaults from
strings or bare numbers alike; a Default or AllowedValues written as a YAML/JSON number or boolean
works (it becomes "22", "true") but is usually a mistake, so we keep the string and warn.

Defect rule ids (all warnings): GR101 Interface group lists an undeclared parameter, GR102 label for
an undeclared parameter, GR103 parameter in two groups, GR104-GR107 Default refused by its own
AllowedValues / AllowedPattern / MinLength-MaxLength / MinValue-MaxValue-Number, GR108 AllowedValues
entry not a string, GR109 Default not a string, GR110 Min greater than Max, GR111 unknown Type,
GR112 NoEcho with a Default, GR113 constraint number that is not a number, GR114 AllowedPattern we
cannot check as Java would.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .loader import LoadedTemplate, TemplateMessage, cfn_string
from .parameter_spec import ParameterSpec
from .values import PatternError, check_value, java_pattern, parse_number

INTERFACE = "AWS::CloudFormation::Interface"
_DEFAULT_RULES = {"allowed": ("GR104", "AllowedValues"), "pattern": ("GR105", "AllowedPattern"),
                  "length": ("GR106", "MinLength/MaxLength"), "size": ("GR106", "size limit"),
                  "range": ("GR107", "MinValue/MaxValue"), "number": ("GR107", "Number type")}


def extract_parameters(template: LoadedTemplate | Mapping[str, Any]) -> list[ParameterSpec]:
    """The declared parameters, in form order."""
    data = template.template if isinstance(template, LoadedTemplate) else template
    declared = _declared(data)
    order, groups = _layout(data, declared)
    labels = _interface(data).get("ParameterLabels")
    labels = labels if isinstance(labels, Mapping) else {}
    specs = [_spec(key, body, _label(labels.get(key)), groups.get(key), order.index(key))
             for key, body in declared.items()]
    return sorted(specs, key=lambda s: s.order)


def _spec(key: str, p: Mapping[str, Any], label: str | None, group: str | None, order: int) -> ParameterSpec:
    allowed = p.get("AllowedValues")
    return ParameterSpec(
        key=key, type=_text(p.get("Type")) or "",
        default=None if p.get("Default") is None else cfn_string(p["Default"]),
        allowed_values=[cfn_string(v) for v in allowed] if isinstance(allowed, list) else [],
        allowed_pattern=_text(p.get("AllowedPattern")),
        min_length=_integer(p.get("MinLength")), max_length=_integer(p.get("MaxLength")),
        min_value=_number(p.get("MinValue")), max_value=_number(p.get("MaxValue")),
        no_echo=cfn_string(p.get("NoEcho", False)).lower() == "true",
        description=_text(p.get("Description")),
        constraint_description=_text(p.get("ConstraintDescription")),
        label=label, group=group, order=order)


def _declared(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    params = data.get("Parameters")
    if not isinstance(params, Mapping):
        return {}
    return {str(k): v for k, v in params.items() if isinstance(v, Mapping)}


def _interface(data: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = data.get("Metadata")
    interface = meta.get(INTERFACE) if isinstance(meta, Mapping) else None
    return interface if isinstance(interface, Mapping) else {}


def interface_groups(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """[{label, parameters}] as the Interface lists them, keeping only declared parameters."""
    declared = _declared(data)
    groups = _interface(data).get("ParameterGroups")
    out = []
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, Mapping):
            names = group.get("Parameters")
            names = [n for n in names if isinstance(n, str) and n in declared] if isinstance(names, list) else []
            out.append({"label": _label(group.get("Label")), "parameters": names})
    return out


def _layout(data: Mapping[str, Any], declared: Mapping[str, Any]) -> tuple[list[str], dict[str, str | None]]:
    order: list[str] = []
    group_of: dict[str, str | None] = {}
    for group in interface_groups(data):
        for name in group["parameters"]:
            if name not in group_of:  # listed twice: the first group wins (and find_defects says so)
                group_of[name] = group["label"]
                order.append(name)
    order += [k for k in declared if k not in group_of]
    return order, group_of


def _label(value: Any) -> str | None:
    return _text(value.get("default")) if isinstance(value, Mapping) else None


def _text(value: Any) -> str | None:
    return None if value is None else cfn_string(value)


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _number(value: Any) -> int | float | None:
    """A constraint number, written bare (5) or as a string ("5") as CloudFormation allows."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    parsed = parse_number(value.strip())
    if parsed is None:
        return None
    return int(parsed) if re.fullmatch(r"[+-]?\d+", value.strip()) else float(parsed)


def find_defects(template: LoadedTemplate | Mapping[str, Any]) -> list[TemplateMessage]:
    """Mistakes in the Parameters and Interface sections that cfn-lint may not flag, as warnings."""
    loaded = template if isinstance(template, LoadedTemplate) else None
    data = loaded.template if loaded else template
    out: list[TemplateMessage] = []

    def warn(rule: str, message: str, path: list[str | int]) -> None:
        line, column = loaded.locate(path) if loaded else (None, None)
        out.append(TemplateMessage("warning", message, line, column, rule, path))

    declared = _declared(data)
    _interface_defects(data, declared, warn)
    from cfnlint.helpers import VALID_PARAMETER_TYPES  # the documented types, kept current by cfn-lint

    for spec in extract_parameters(data):
        p, at = declared[spec.key], ["Parameters", spec.key]
        if spec.type not in VALID_PARAMETER_TYPES:
            warn("GR111", f"Parameter {spec.key}: unknown Type {spec.type!r}." if spec.type else
                 f"Parameter {spec.key}: no Type.", at + ["Type"])
        default = p.get("Default")
        if default is not None and not isinstance(default, str):
            warn("GR109", f"Parameter {spec.key}: Default is the {_kind(default)} {_source(default)}, not a string; "
                          f"CloudFormation reads it as {spec.default!r}. Quote it.", at + ["Default"])
        allowed = p.get("AllowedValues")
        if allowed is not None and not isinstance(allowed, list):
            warn("GR108", f"Parameter {spec.key}: AllowedValues is not a list.", at + ["AllowedValues"])
        for i, value in enumerate(allowed if isinstance(allowed, list) else []):
            if not isinstance(value, str):
                warn("GR108", f"Parameter {spec.key}: AllowedValues entry {_source(value)} is a {_kind(value)}, not a "
                              f"string; CloudFormation reads it as {cfn_string(value)!r}. Quote it.",
                     at + ["AllowedValues", i])
        for attr, parsed in (("MinLength", spec.min_length), ("MaxLength", spec.max_length),
                             ("MinValue", spec.min_value), ("MaxValue", spec.max_value)):
            if p.get(attr) is not None and parsed is None:
                warn("GR113", f"Parameter {spec.key}: {attr} {_source(p[attr])} is not a "
                              f"{'whole ' if 'Length' in attr else ''}number.", at + [attr])
        for low, high, lo, hi in (("MinLength", "MaxLength", spec.min_length, spec.max_length),
                                  ("MinValue", "MaxValue", spec.min_value, spec.max_value)):
            if lo is not None and hi is not None and lo > hi:
                warn("GR110", f"Parameter {spec.key}: {low} {lo} is greater than {high} {hi}: "
                              "no value can satisfy both.", at + [low])
        if spec.allowed_pattern is not None:
            try:
                java_pattern(spec.allowed_pattern)
            except PatternError as exc:
                warn("GR114", f"Parameter {spec.key}: AllowedPattern cannot be checked before launch ({exc}).",
                     at + ["AllowedPattern"])
        if spec.no_echo and spec.default is not None:
            warn("GR112", f"Parameter {spec.key}: NoEcho but with a Default, so the secret is in the template "
                          "for anyone who can read it.", at + ["Default"])
        if spec.default is not None:
            for failure in check_value(spec, spec.default):
                rule, attr = _DEFAULT_RULES[failure.kind]
                warn(rule, f"Parameter {spec.key}: Default {spec.default!r} fails its own {attr}: "
                           f"{failure.message}", at + ["Default"])
    return sorted(out, key=lambda m: (m.line or 0, m.rule))


def _interface_defects(data: Mapping[str, Any], declared: Mapping[str, Any], warn: Any) -> None:
    interface = _interface(data)
    at: list[str | int] = ["Metadata", INTERFACE]
    groups = interface.get("ParameterGroups")
    seen: dict[str, str | None] = {}
    for gi, group in enumerate(groups if isinstance(groups, list) else []):
        names = group.get("Parameters") if isinstance(group, Mapping) else None
        label = _label(group.get("Label")) if isinstance(group, Mapping) else None
        for pi, name in enumerate(names if isinstance(names, list) else []):
            path = at + ["ParameterGroups", gi, "Parameters", pi]
            if name not in declared:
                warn("GR101", f"Interface group {label!r} lists {name!r}, which is not a declared parameter.", path)
            elif name in seen:
                warn("GR103", f"Interface lists parameter {name} in group {label!r} and already in {seen[name]!r}.",
                     path)
            else:
                seen[name] = label
    labels = interface.get("ParameterLabels")
    for name in labels if isinstance(labels, Mapping) else {}:
        if name not in declared:
            warn("GR102", f"Interface has a label for {name!r}, which is not a declared parameter.",
                 at + ["ParameterLabels", name])


def _source(value: Any) -> str:
    """How the value was written: true, 5, "abc"."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, (int, float)) else type(value).__name__
