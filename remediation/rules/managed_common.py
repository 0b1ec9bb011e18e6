"""What the managed rules share: the rule base class, parameter validation and small parsers.

Pure Python like ``remediation.rules.base``: no Django, no boto3. Parameters arrive as strings, AWS style
("443,1020-1025", "3389", "true"); `validate_params` checks them against the rule's `Param`s and fills the
defaults, and every rule's `evaluate` runs it first, so a rule always sees a complete, checked set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from remediation.rules.base import (
    INSUFFICIENT_DATA,
    NOT_APPLICABLE,
    AccountView,
    Evaluation,
    Param,
    ResourceView,
)

__all__ = ["GLOBAL", "RECORDED_TYPES", "TAGGABLE_TYPES", "ManagedRule", "check_choice", "check_port", "csv_items",
           "flag", "parse_port", "parse_port_ranges", "validate_params"]

GLOBAL = "global"  # the region AWS Config gives IAM resources

# The types the portal's recorder records (audit/config/collectors), and of those the ones that carry tags.
TAGGABLE_TYPES: tuple[str, ...] = (
    "AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::EC2::VPC", "AWS::EC2::Subnet",
    "AWS::EC2::NetworkInterface", "AWS::EC2::FlowLog", "AWS::S3::Bucket", "AWS::IAM::User", "AWS::IAM::Role",
    "AWS::IAM::Policy", "AWS::CloudTrail::Trail", "AWS::RDS::DBInstance", "AWS::CloudFormation::Stack",
)
RECORDED_TYPES: tuple[str, ...] = TAGGABLE_TYPES + ("AWS::Config::ConfigurationRecorder",)

_INT = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


# ---------------------------------------------------------------------------------------------- parsers


def csv_items(value: str | None) -> list[str]:
    """The non-empty, stripped items of a comma-separated parameter."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def flag(value: str | None) -> bool | None:
    """"true"/"false" (any case) as a bool; None when absent; ValueError otherwise."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


def parse_port(value: str) -> int:
    text = str(value).strip()
    if not _INT.fullmatch(text):
        raise ValueError(f"{value!r} is not a port number")
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is outside 0-65535")
    return port


def parse_port_ranges(value: str | None) -> list[tuple[int, int]]:
    """"443,1020-1025" as [(443, 443), (1020, 1025)]; ValueError naming the malformed item."""
    ranges = []
    for item in csv_items(value):
        low, dash, high = item.partition("-")
        start = parse_port(low)
        end = parse_port(high) if dash else start
        if end < start:
            raise ValueError(f"range {item!r} ends before it starts")
        ranges.append((start, end))
    return ranges


# ---------------------------------------------------------------------------------------------- parameters


def _normalise(param: Param, raw: Any) -> str:
    text = str(raw).strip()
    if not text:
        return ""
    if param.type == "int":
        if not _INT.fullmatch(text):
            raise ValueError(f"{param.name}: {raw!r} is not an integer")
        return str(int(text))
    if param.type == "csv":
        return ",".join(csv_items(text))
    return text


def validate_params(rule: Any, params: Mapping[str, Any] | None) -> dict[str, str]:
    """The rule's parameters checked and completed: unknown names, malformed values and missing required ones
    raise ValueError("name: what is wrong"); absent (or blank) optional ones take their default, if any."""
    declared = {p.name: p for p in rule.parameters}
    given = dict(params or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"{unknown[0]}: not a parameter of {rule.name}"
                         f" (it takes {', '.join(declared) or 'none'})")
    result: dict[str, str] = {}
    for name, param in declared.items():
        raw = given.get(name)
        value = _normalise(param, raw) if raw is not None else ""
        if not value and param.default is not None:
            value = param.default
        if not value:
            if param.required:
                raise ValueError(f"{name}: required")
            continue
        result[name] = value
    check = getattr(rule, "check_params", None)
    if check is not None:
        check(result)
    return result


def check_port(params: Mapping[str, str], name: str) -> None:
    if name in params:
        try:
            parse_port(params[name])
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None


def check_choice(params: Mapping[str, str], name: str, choices: Iterable[str]) -> None:
    allowed = list(choices)
    if name in params and params[name].upper() not in {c.upper() for c in allowed}:
        raise ValueError(f"{name}: {params[name]!r} is not one of {', '.join(allowed)}")


# ---------------------------------------------------------------------------------------------- the base


class ManagedRule:
    """One managed rule. Subclasses set the class attributes and implement `check` (a resource of one of
    `resource_types`, params validated) or, for account-level rules (periodic, no resource types),
    `check_account`."""

    name = ""
    identifier = ""
    description = ""
    resource_types: tuple[str, ...] = ()
    parameters: tuple[Param, ...] = ()
    periodic = False

    def check_params(self, params: dict[str, str]) -> None:
        """Rule-specific checks beyond the Param types (ranges, choices); raise ValueError("name: why")."""

    def applies_to(self, resource: ResourceView) -> bool:
        return resource.resource_type in self.resource_types

    def evaluate(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        if self.periodic:
            return Evaluation(NOT_APPLICABLE, f"{self.name} evaluates the account as a whole, not one resource")
        if not self.applies_to(resource):
            return Evaluation(NOT_APPLICABLE, f"{self.name} does not evaluate {resource.resource_type}")
        return self.check(resource, validate_params(self, params))

    def evaluate_account(self, account: AccountView, params: dict[str, str]) -> Evaluation:
        if not self.periodic:
            return Evaluation(NOT_APPLICABLE, f"{self.name} evaluates single resources, not the account")
        return self.check_account(account, validate_params(self, params))

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        return Evaluation(INSUFFICIENT_DATA, f"{self.name} has no resource check")

    def check_account(self, account: AccountView, params: dict[str, str]) -> Evaluation:
        return Evaluation(INSUFFICIENT_DATA, f"{self.name} has no account check")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.identifier})>"
