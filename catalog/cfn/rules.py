"""Service Catalog template-constraint rules (a template's `Rules` section), checked by the portal.

Semantics of AWS's "Template Constraint Rules" and rule functions: a rule applies when its optional
RuleCondition is true, then every Assert must hold. Fn::Equals compares strings (`true` equals
"true"); a Ref to a list parameter gives a list (a string given for one is split on commas).

Fn::RefAll, Fn::ValueOf and Fn::ValueOfAll need AWS lookups, so here they are *unknown*, as is a
parameter missing from `values`. Logic is three-valued (Fn::And with a false operand is false, Fn::Or
with a true one true, even beside unknowns). An assertion left unknown is never passed silently:
`evaluate_rules` returns it as a RuleViolation with `unevaluated=True` and a `reason`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# name -> (declaration for messages, min args, max args, kind of each argument; the last repeats)
_SIGNATURES: dict[str, tuple[str, int, int, tuple[str, ...]]] = {
    "Fn::And": ("[condition, ...] with 2 to 10 conditions", 2, 10, ("condition",)),
    "Fn::Or": ("[condition, ...] with 2 to 10 conditions", 2, 10, ("condition",)),
    "Fn::Not": ("[condition]", 1, 1, ("condition",)),
    "Fn::Equals": ("[value_1, value_2]", 2, 2, ("any",)),
    "Fn::Contains": ("[[list_of_strings], string]", 2, 2, ("list", "string")),
    "Fn::EachMemberEquals": ("[[list_of_strings], string]", 2, 2, ("list", "string")),
    "Fn::EachMemberIn": ("[[strings_to_check], [strings_to_match]]", 2, 2, ("list", "list")),
}
CONDITION_FUNCTIONS = tuple(_SIGNATURES)
LOOKUP_FUNCTIONS = ("Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll")
RULE_FUNCTIONS = CONDITION_FUNCTIONS + LOOKUP_FUNCTIONS + ("Ref",)
PSEUDO_PARAMETERS = frozenset({"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
                               "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"})
_SCALARS = (str, int, float, bool)
RULE_NAME = re.compile(r"^[A-Za-z0-9]+$")

Value = str | list[str] | bool
Path = tuple[str, ...]


@dataclass(frozen=True)
class RuleViolation:
    """An assertion that fails (or, with `unevaluated`, that can't be decided here, and why)."""

    rule: str
    assert_description: str
    parameters: list[str] = field(default_factory=list)
    unevaluated: bool = False
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Unknown(Exception):
    """The outcome can't be known here: an AWS lookup, a missing value, or a malformed expression."""


def _rule_map(rules: Any) -> Any:
    """Accept the constraint document `{"Rules": {...}}` as well as the bare rules mapping."""
    inner = rules.get("Rules") if isinstance(rules, Mapping) and len(rules) == 1 else None
    return inner if isinstance(inner, Mapping) and "Assertions" not in inner else rules


def _one_function(node: Any) -> tuple[str, Any] | None:
    if isinstance(node, Mapping) and len(node) == 1:
        name, args = next(iter(node.items()))
        return str(name), args
    return None


def _text(node: Any) -> str:
    return ("true" if node else "false") if isinstance(node, bool) else str(node)


# ---------------------------------------------------------------- structure (save-time checks)

class _Checker:
    def __init__(self, parameter_keys: Iterable[str] | None) -> None:
        self.keys = None if parameter_keys is None else set(parameter_keys)
        self.errors: list[str] = []

    def fail(self, path: Path, message: str) -> None:
        self.errors.append(f"{'/'.join(path)}: {message}")

    def known_keys(self, path: Path, node: Mapping, allowed: tuple[str, str]) -> None:
        if unknown := sorted(str(k) for k in node if k not in allowed):
            self.fail(path, f"unknown key(s) {', '.join(unknown)}; expected only {' and '.join(allowed)}")

    def rule(self, path: Path, name: Any, rule: Any) -> None:
        if not isinstance(name, str) or not RULE_NAME.fullmatch(name):
            self.fail(path, "a rule name may contain only letters and digits")
        if not isinstance(rule, Mapping):
            self.fail(path, "a rule must be an object with Assertions and an optional RuleCondition")
            return
        self.known_keys(path, rule, ("RuleCondition", "Assertions"))
        if "RuleCondition" in rule:
            self.condition(path + ("RuleCondition",), rule["RuleCondition"])
        self.assertions(path + ("Assertions",), rule.get("Assertions"))

    def assertions(self, path: Path, items: Any) -> None:
        if not isinstance(items, list) or not items:
            self.fail(path, "is required: a non-empty list of {Assert, AssertDescription} objects")
            return
        for index, item in enumerate(items):
            where = path + (str(index),)
            if not isinstance(item, Mapping) or "Assert" not in item:
                self.fail(where, "an assertion must be an object with Assert (and AssertDescription)")
                continue
            self.known_keys(where, item, ("Assert", "AssertDescription"))
            if not isinstance(item.get("AssertDescription", ""), str):
                self.fail(where + ("AssertDescription",), "must be a string")
            self.condition(where + ("Assert",), item["Assert"])

    def function(self, path: Path, node: Mapping) -> tuple[str, Any] | None:
        found = _one_function(node)
        if found is None:
            self.fail(path, f"a function is an object with exactly one key, got {len(node)} keys")
        elif found[0] not in RULE_FUNCTIONS:
            self.fail(path, f"{found[0]} is not a rule function; use one of {', '.join(RULE_FUNCTIONS)}")
            return None
        return found

    def condition(self, path: Path, node: Any) -> None:
        if isinstance(node, bool) or (isinstance(node, str) and node.lower() in ("true", "false")):
            return
        if not isinstance(node, Mapping):
            self.fail(path, f"a condition must be a rule function or true/false, got {node!r}")
        elif (found := self.function(path, node)) is not None:
            if found[0] in CONDITION_FUNCTIONS:
                self.arguments(path + (found[0],), *found)
            else:
                self.fail(path + (found[0],), "gives a value, not true/false; compare it with Fn::Equals")

    def arguments(self, path: Path, name: str, args: Any) -> None:
        declaration, low, high, kinds = _SIGNATURES[name]
        if not isinstance(args, list) or not low <= len(args) <= high:
            got = f"{len(args)} argument(s)" if isinstance(args, list) else f"a {type(args).__name__}"
            self.fail(path, f"takes {declaration}, got {got}")
            return
        for index, arg in enumerate(args):
            kind = kinds[min(index, len(kinds) - 1)]
            if kind == "condition":
                self.condition(path + (str(index),), arg)
            else:
                self.value(path + (str(index),), arg, kind)

    def value(self, path: Path, node: Any, want: str) -> None:
        if isinstance(node, _SCALARS):
            if want == "list":
                self.fail(path, f"expected a list of strings, got {node!r}")
        elif isinstance(node, list):
            if want == "string":
                self.fail(path, "expected a single string, got a list")
            for index, item in enumerate(node):
                found = None if isinstance(item, _SCALARS) else _one_function(item)
                if found is not None and found[0] == "Ref":
                    self.ref(path + (str(index), "Ref"), found[1])
                elif found is not None or not isinstance(item, _SCALARS):
                    self.fail(path + (str(index),), "list members must be strings or a Ref")
        elif not isinstance(node, Mapping):
            self.fail(path, f"expected a value, got {node!r}")
        elif (found := self.function(path, node)) is not None:
            self.value_function(path + (found[0],), *found, want)

    def value_function(self, path: Path, name: str, args: Any, want: str) -> None:
        if name in CONDITION_FUNCTIONS:
            if want == "any":
                self.arguments(path, name, args)
            else:
                self.fail(path, f"gives true/false, but a {want} is expected here")
            return
        if name == "Ref":
            self.ref(path, args)
        elif name == "Fn::RefAll" and not isinstance(args, str):
            self.fail(path, "takes a parameter type such as AWS::EC2::VPC::Id")
        elif name != "Fn::RefAll" and not (isinstance(args, list) and len(args) == 2
                                          and all(isinstance(a, str) for a in args)):
            self.fail(path, "takes two plain strings (no functions inside)")
        elif name == "Fn::ValueOf":
            self.ref(path, args[0])
        if want == "string" and name in ("Fn::RefAll", "Fn::ValueOfAll"):
            self.fail(path, "gives a list, but a single string is expected here")

    def ref(self, path: Path, target: Any) -> None:
        if not isinstance(target, str):
            self.fail(path, "takes a parameter name")
        elif target.startswith("AWS::"):
            if target not in PSEUDO_PARAMETERS:
                self.fail(path, f"{target} is not a pseudo parameter")
        elif self.keys is not None and target not in self.keys:
            self.fail(path, f"refers to undeclared parameter {target!r}")


def validate_rules(rules: Mapping, parameter_keys: Iterable[str] | None = None) -> list[str]:
    """Structural problems, each prefixed with its path (none: well formed); given `parameter_keys`,
    a Ref or Fn::ValueOf to a parameter not among them is one too."""
    checker, rules = _Checker(parameter_keys), _rule_map(rules)
    if not isinstance(rules, Mapping) or not rules:
        return ["Rules: must be a non-empty mapping of rule names to rules"]
    for name, rule in rules.items():
        checker.rule(("Rules", str(name)), name, rule)
    return checker.errors


# ---------------------------------------------------------------- evaluation

class _Evaluator:
    def __init__(self, values: Mapping[str, str | list[str]]) -> None:
        self.values = values

    def condition(self, node: Any) -> bool:
        result = self.value(node)
        if isinstance(result, str) and result.lower() in ("true", "false"):
            return result.lower() == "true"
        if isinstance(result, bool):
            return result
        raise _Unknown(f"{_text(result)!r} is not true or false")

    def logical(self, is_and: bool, items: list) -> bool:
        """Kleene AND/OR: a decisive operand wins over unknown ones."""
        unknown: _Unknown | None = None
        for item in items:
            try:
                if self.condition(item) is not is_and:
                    return not is_and
            except _Unknown as exc:
                unknown = unknown or exc
        if unknown is not None:
            raise unknown
        return is_and

    def compare(self, name: str, left: Any, right: Any) -> bool:
        if name == "Fn::Equals":
            a, b = (tuple(v) if isinstance(v, list) else _text(v) for v in (self.value(left), self.value(right)))
            return a == b
        members = _as_list(self.value(left))
        if name == "Fn::EachMemberIn":
            allowed = set(_as_list(self.value(right)))
            return all(m in allowed for m in members)
        wanted = _as_string(self.value(right))
        return wanted in members if name == "Fn::Contains" else all(m == wanted for m in members)

    def value(self, node: Any) -> Value:
        if isinstance(node, (str, bool)):
            return node
        if isinstance(node, (int, float, list)):
            return [_as_string(self.value(item)) for item in node] if isinstance(node, list) else str(node)
        name, args = _one_function(node) or (repr(node), None)
        if name == "Ref":
            value = self.values.get(args) if isinstance(args, str) else None
            if value is None:
                raise _Unknown(f"no value was given for parameter {args!r}")
            return [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
        if name in LOOKUP_FUNCTIONS:
            raise _Unknown(f"{name} {args!r} needs an AWS lookup")
        if name not in _SIGNATURES:
            raise _Unknown(f"{name} is not a rule function or value")
        declaration, low, high, _ = _SIGNATURES[name]
        if not isinstance(args, list) or not low <= len(args) <= high:
            raise _Unknown(f"{name} is malformed: it takes {declaration}")
        if name in ("Fn::And", "Fn::Or"):
            return self.logical(name == "Fn::And", args)
        return not self.condition(args[0]) if name == "Fn::Not" else self.compare(name, *args)


def _as_list(value: Value) -> list[str]:
    if isinstance(value, list):
        return value
    if isinstance(value, bool):
        raise _Unknown("expected a list of strings, got true/false")
    return [part.strip() for part in value.split(",")] if value else []


def _as_string(value: Value) -> str:
    if isinstance(value, list):
        raise _Unknown(f"expected a single string, got the list {value}")
    return _text(value)


def _parameters_in(node: Any) -> set[str]:
    """The parameters an expression reads through Ref or Fn::ValueOf (pseudo parameters excluded)."""
    found: set[str] = set()
    children = node if isinstance(node, list) else list(node.values()) if isinstance(node, Mapping) else []
    for name, args in node.items() if isinstance(node, Mapping) else []:
        if name == "Ref" and isinstance(args, str) and not args.startswith("AWS::"):
            found.add(args)
        elif name == "Fn::ValueOf" and isinstance(args, list) and args and isinstance(args[0], str):
            found.add(args[0])
    return found.union(*(_parameters_in(child) for child in children))


def referenced_parameters(rules: Mapping) -> set[str]:
    """Names of the parameters the rules read (Ref and Fn::ValueOf; pseudo parameters excluded)."""
    return _parameters_in(_rule_map(rules))


def _applies(rule: Mapping, evaluator: _Evaluator) -> bool | _Unknown:
    try:
        return "RuleCondition" not in rule or evaluator.condition(rule["RuleCondition"])
    except _Unknown as exc:
        return exc


def _check(name: str, index: int, assertion: Any, applies: bool | _Unknown,
           evaluator: _Evaluator) -> RuleViolation | None:
    item = assertion if isinstance(assertion, Mapping) else {}
    description = str(item.get("AssertDescription") or f"Assertion {index + 1} of rule {name} does not hold.")
    params = sorted(_parameters_in(item.get("Assert")))
    try:
        if evaluator.condition(item.get("Assert")):
            return None
    except _Unknown as exc:
        return RuleViolation(name, description, params, True, f"cannot be evaluated here: {exc}")
    if isinstance(applies, _Unknown):
        return RuleViolation(name, description, params, True, f"its RuleCondition cannot be evaluated here: {applies}")
    return RuleViolation(name, description, params)


def evaluate_rules(rules: Mapping, values: Mapping[str, str | list[str]]) -> list[RuleViolation]:
    """The assertions that fail for these parameter values, and those that can't be decided here."""
    evaluator = _Evaluator(values)
    out: list[RuleViolation] = []
    for name, rule in _rule_map(rules).items():
        if not isinstance(rule, Mapping) or not isinstance(rule.get("Assertions"), list):
            out.append(RuleViolation(str(name), f"Rule {name} is malformed.", [], True, "malformed rule"))
            continue
        applies = _applies(rule, evaluator)
        if applies is not False:
            found = (_check(str(name), i, a, applies, evaluator) for i, a in enumerate(rule["Assertions"]))
            out += [violation for violation in found if violation is not None]
    return out


# ---------------------------------------------------------------- launch-form dropdowns

def _literal_list(node: Any) -> list[str] | None:
    if not isinstance(node, list) or not all(isinstance(item, _SCALARS) for item in node):
        return None
    return list(dict.fromkeys(_text(item) for item in node))


def _is_ref(node: Any, key: str) -> bool:
    return _one_function(node) == ("Ref", key)


def _restriction(node: Any, key: str) -> list[str] | None:
    """The values an assertion allows for parameter `key`; None when it doesn't pin them to a list."""
    found = _one_function(node)
    if found is None or not isinstance(found[1], list):
        return None
    name, args = found
    if name in ("Fn::And", "Fn::Or"):
        parts = [_restriction(arg, key) for arg in args]
        if name == "Fn::And":
            return _intersect([part for part in parts if part is not None])
        return None if not parts or None in parts else list(dict.fromkeys(v for p in parts for v in p or []))
    if len(args) != 2:
        return None
    left, right = args
    if name == "Fn::Contains" and _is_ref(right, key):
        return _literal_list(left)
    if (name == "Fn::EachMemberEquals" or name == "Fn::Equals") and _is_ref(left, key):
        return _literal_list([right])
    if name == "Fn::Equals" and _is_ref(right, key):
        return _literal_list([left])
    if name == "Fn::EachMemberIn" and _is_ref(left, key):
        return _literal_list(right)
    return None


def _intersect(lists: list[list[str]]) -> list[str] | None:
    if not lists:
        return None
    return [value for value in lists[0] if all(value in other for other in lists[1:])]


def allowed_values_from_rules(rules: Mapping, parameter_key: str,
                              values: Mapping[str, str | list[str]] | None = None) -> list[str] | None:
    """The only values the rules let `parameter_key` take (for the launch form's dropdown), from
    unconditional rules and, given `values`, rules whose RuleCondition is true for them. Restrictions
    intersect (an empty list: no value satisfies them all); None: not restricted to a list."""
    evaluator = _Evaluator(values or {})
    found: list[list[str]] = []
    for rule in _rule_map(rules).values():
        if not isinstance(rule, Mapping) or not isinstance(rule.get("Assertions"), list):
            continue
        if "RuleCondition" in rule and (values is None or _applies(rule, evaluator) is not True):
            continue
        for assertion in rule["Assertions"]:
            allowed = _restriction(assertion.get("Assert"), parameter_key) if isinstance(assertion, Mapping) else None
            if allowed is not None:
                found.append(allowed)
    return _intersect(found)
