"""Custom rules that admins write in the UI: a JSON filter over one resource, compiled once, evaluated often.

A definition::

    {"resource_types": ["AWS::EC2::SecurityGroup"],
     "match": {"any": [{"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "cidr_world"},
                       {"path": "tags.owner", "op": "absent"}]},
     "annotation": "Open to the world or without an owner"}

`match` describes the NON_COMPLIANT condition. Optional top-level keys: "name", "description".

A node is a condition ``{"path", "op", "value"}`` or a combinator: ``{"all": [node, ...]}``,
``{"any": [node, ...]}``, ``{"not": node}``.

Paths (exact syntax; no whitespace)::

    path    := root step*
    root    := configuration | supplementary | tags | relationships | resource_type | resource_id
               | region | account_id
    step    := "." name | "." quoted | "[" quoted "]" | "[" integer "]" | "[*]"
    name    := one or more of A-Z a-z 0-9 _
    quoted  := '"' characters '"'   (inside, write \\" for a quote and \\\\ for a backslash)
    integer := -?[0-9]+             (negative counts from the end, -1 is the last item)

so ``tags."cost-center"`` and ``tags["cost-center"]`` are the same key. ``[*]`` fans out over every item of a list
(or every value of a mapping); a key step on a list does not fan out by itself. A path yields the values found,
each with its concrete path (``configuration.ipPermissions[0].ipRanges[1].cidrIp``); a missing key or index
yields nothing.

Operators, where a path yields several values (fan-out) a condition holds when ANY of them satisfies it:

* eq, ne: JSON equality (same JSON type: true is not 1).
* lt, le, gt, ge: number against number or string against string; any other pairing does not satisfy.
* in, not_in: `value` is a list; the value found is (not) one of its items.
* contains, not_contains: the value found is a list that has `value` as an item, or a string that has the
  string `value` in it (anything else neither contains nor not-contains).
* regex: the value found is a string that the pattern matches as a whole (Python ``re.fullmatch``).
* cidr_world: the value found is a CIDR with prefix length 0, IPv4 or IPv6 (0.0.0.0/0, ::/0). No `value`.
* present / absent: the path yields at least one / no value other than null. No `value`. (These look at the
  values as a whole, not one by one.)

Every operator but absent is false on a path that yields nothing: combine with absent to catch missing data.
Resources planned from a template (template_resources) list in ``context["unresolved"]`` the paths not known
before launch; such a value is present but satisfies no other op, and the rule answers INSUFFICIENT_DATA when
the outcome hangs on it (three-valued logic: any is true if a child is, all false if a child is)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from remediation.rules.base import (COMPLIANT, INSUFFICIENT_DATA, NON_COMPLIANT, NOT_APPLICABLE, AccountView,
                                    Evaluation, Param, ResourceView)

__all__ = ["IDENTIFIER", "OPS", "ROOTS", "DeclarativeRule", "RuleSyntaxError", "compile_rule", "explain",
           "parse_path", "render_key", "resolve"]

IDENTIFIER = "CUSTOM_DECLARATIVE"
ROOTS = ("configuration", "supplementary", "tags", "relationships", "resource_type", "resource_id", "region",
         "account_id")
TOP_LEVEL = ("resource_types", "match", "annotation", "name", "description")
MAX_DEPTH = 32  # nesting of all/any/not
MAX_ANNOTATION = 256  # AWS Config's limit for an annotation
_NO_VALUE_OPS = frozenset({"absent", "present", "cidr_world"})
_NAME = re.compile(r"[A-Za-z0-9_]+")
_QUOTED = r'"(?:[^"\\]|\\["\\])*"'
_STEP = re.compile(rf'\.(?:([A-Za-z0-9_]+)|({_QUOTED}))|\[(?:(\*)|(-?[0-9]+)|({_QUOTED}))\]')
_RESOURCE_TYPE = re.compile(r"[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+")


class RuleSyntaxError(ValueError):
    """`path` says where in the definition (``match.any[1].op``), `message` what is wrong."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(path, message)  # both in args: the error pickles (e.g. through a task queue)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# ---------------------------------------------------------------------------------------------- paths

Step = tuple[str, Any]  # ("key", "name") | ("index", 3) | ("all", None)


def parse_path(text: str) -> tuple[Step, ...]:
    """The steps of a path; ValueError saying at which character it goes wrong."""
    if not isinstance(text, str) or not text:
        raise ValueError("a path must be a non-empty string such as configuration.groupId")
    root = _NAME.match(text)
    if not root or root.group() not in ROOTS:
        raise ValueError(f"a path starts with one of {', '.join(ROOTS)}")
    steps: list[Step] = [("key", root.group())]
    at = root.end()
    while at < len(text):
        step = _STEP.match(text, at)
        if step is None:
            raise ValueError(f"at character {at + 1}: {_hint(text, at)}")
        name, quoted, star, index, bracketed = step.groups()
        if star:
            steps.append(("all", None))
        elif index is not None:
            steps.append(("index", int(index)))
        else:
            steps.append(("key", name if name is not None else _unquote(quoted or bracketed)))
        at = step.end()
    return tuple(steps)


def _hint(text: str, at: int) -> str:
    rest = text[at:]
    if rest.startswith(('."', '["')):
        return "a quoted key is not closed (or has an escape other than \\\" and \\\\)"
    if rest.startswith("."):
        return "expected a key after '.'; quote keys with other characters: tags.\"cost-center\""
    if rest.startswith("["):
        return "expected [*], [integer] or [\"quoted key\"]"
    return f"unexpected {rest[0]!r}; expected '.' or '['"


def _unquote(quoted: str) -> str:
    return re.sub(r'\\(["\\])', r"\1", quoted[1:-1])


def render_key(key: str) -> str:
    """A key as a path step writes it after its dot: bare when it can be, else quoted."""
    return key if _NAME.fullmatch(key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _root_data(resource: Any) -> dict[str, Any]:
    if isinstance(resource, ResourceView):
        return {root: getattr(resource, root) for root in ROOTS}
    return {root: (resource or {}).get(root) for root in ROOTS}


def resolve(steps: tuple[Step, ...], data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(concrete path, value) for every value the path reaches in `data` (a root -> value mapping)."""
    root = steps[0][1]
    if root not in data:
        return []
    found: list[tuple[str, Any]] = [(root, data[root])]
    for kind, arg in steps[1:]:
        following: list[tuple[str, Any]] = []
        for where, value in found:
            if kind == "key" and isinstance(value, dict) and arg in value:
                following.append((f"{where}.{render_key(arg)}", value[arg]))
            elif kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value):
                following.append((f"{where}[{arg % len(value)}]", value[arg]))
            elif kind == "all" and isinstance(value, list):
                following += [(f"{where}[{i}]", item) for i, item in enumerate(value)]
            elif kind == "all" and isinstance(value, dict):
                following += [(f"{where}.{render_key(str(k))}", item) for k, item in value.items()]
        found = following
    return found


# ---------------------------------------------------------------------------------------------- operators


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__


def _same(a: Any, b: Any) -> bool:
    """JSON equality: the same JSON type (True is not 1), lists and objects compared item by item."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(found: Any, value: Any) -> bool:
        return _kind(found) == _kind(value) and _kind(found) in ("number", "string") and compare(found, value)
    return test


def _contains(found: Any, value: Any) -> bool | None:
    """True/False when `found` can contain (a list, or a string and a string `value`), None when it cannot."""
    if isinstance(found, list):
        return any(_same(item, value) for item in found)
    if isinstance(found, str) and isinstance(value, str):
        return value in found
    return None


def _cidr_world(found: Any, _: Any) -> bool:
    if not isinstance(found, str) or "/" not in found:
        return False
    try:
        return ipaddress.ip_network(found.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _same,
    "ne": lambda found, value: not _same(found, value),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "in": lambda found, value: any(_same(found, item) for item in value),
    "not_in": lambda found, value: not any(_same(found, item) for item in value),
    "contains": lambda found, value: _contains(found, value) is True,
    "not_contains": lambda found, value: _contains(found, value) is False,
    "regex": lambda found, pattern: isinstance(found, str) and pattern.fullmatch(found) is not None,
    "cidr_world": _cidr_world,
    "present": lambda found, value: found is not None,  # present / absent: over all the values at once, in hits
    "absent": lambda found, value: found is None,
}


def _show(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class _Outcome:
    matched: bool | None  # None: not known before launch (three-valued: see _Combinator.run)
    why: str = ""  # matched: which condition(s) with their concrete paths; None: the unknown paths


@dataclass(frozen=True)
class _Condition:
    where: str  # in the definition: "match.any[0]"
    path: str
    steps: tuple[Step, ...]
    op: str
    value: Any  # for regex: the compiled pattern
    raw_value: Any

    def text(self) -> str:
        return f"{self.path} {self.op}" + ("" if self.op in _NO_VALUE_OPS else f" {_show(self.raw_value)}")

    def hits(self, data: dict[str, Any], unresolved: frozenset[str] = frozenset(),
             unknown: list[str] | None = None) -> list[tuple[str, Any]]:
        """The (concrete path, value) pairs that satisfy the condition (for absent: one pair, value None).

        A value at an `unresolved` path (not known before launch) counts as present and satisfies no other op:
        its path goes to `unknown` instead."""
        found = resolve(self.steps, data)
        if self.op in ("present", "absent"):
            present = [(where, value) for where, value in found if value is not None or _under(where, unresolved)]
            return present if self.op == "present" else [] if present else [(self.path, None)]
        hits = []
        for where, value in found:
            if _under(where, unresolved):
                if unknown is not None:
                    unknown.append(where)
            elif OPS[self.op](value, self.value):
                hits.append((where, value))
        return hits

    def describe(self, where: str, found: Any) -> str:
        if self.op in ("present", "absent"):
            return f"{where} absent" if self.op == "absent" else f"{where} is {_show(found)}"
        if self.op == "cidr_world":
            return f"{where} is {_show(found)} (open to the world)"
        text = f"{where} {self.op} {_show(self.raw_value)}"
        if self.op not in ("eq", "contains") and not isinstance(found, list | dict):
            text += f" (is {_show(found)})"
        return text

    def run(self, data: dict[str, Any], unresolved: frozenset[str]) -> _Outcome:
        unknown: list[str] = []
        hits = self.hits(data, unresolved, unknown)
        if hits:
            return _Outcome(True, self.describe(*hits[0]))
        return _Outcome(None, ", ".join(dict.fromkeys(unknown))) if unknown else _Outcome(False)

    def leaves(self) -> list[_Condition]:
        return [self]


@dataclass(frozen=True)
class _Combinator:
    where: str
    kind: str  # all | any | not
    children: tuple[Any, ...]

    def run(self, data: dict[str, Any], unresolved: frozenset[str]) -> _Outcome:
        """Kleene's logic: any is true if one child is, all is false if one child is, else unknown if one is."""
        outcomes = []
        for child in self.children:
            outcome = child.run(data, unresolved)
            if self.kind == "not":
                if outcome.matched is None:
                    return outcome
                return _Outcome(not outcome.matched, "" if outcome.matched else f"not ({_text(child)})")
            if outcome.matched is (self.kind == "any"):
                return outcome  # any: the first match; all: the first miss
            outcomes.append(outcome)
        unknown = [o.why for o in outcomes if o.matched is None]
        if unknown:
            return _Outcome(None, ", ".join(unknown))
        return _Outcome(False) if self.kind == "any" else _Outcome(True, " and ".join(o.why for o in outcomes))

    def leaves(self) -> list[_Condition]:
        return [leaf for child in self.children for leaf in child.leaves()]


def _text(node: Any) -> str:
    if isinstance(node, _Condition):
        return node.text()
    if node.kind == "not":
        return f"not ({_text(node.children[0])})"
    return f" {node.kind} ".join(f"({_text(child)})" if isinstance(child, _Combinator) else _text(child)
                                 for child in node.children)


def _compile_node(node: Any, where: str, depth: int = 0) -> _Condition | _Combinator:
    if depth > MAX_DEPTH:
        raise RuleSyntaxError(where, f"conditions nest deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict):
        raise RuleSyntaxError(where, f"expected a condition {{\"path\", \"op\", \"value\"}} or one of all, any, "
                                     f"not; got {_kind(node)}")
    combinators = [key for key in ("all", "any", "not") if key in node]
    if combinators:
        if len(node) != 1:
            others = sorted(set(node) - {combinators[0]})
            raise RuleSyntaxError(where, f"'{combinators[0]}' must be alone in its object; also found "
                                         f"{', '.join(others)}")
        kind = combinators[0]
        inner = node[kind]
        if kind == "not":
            return _Combinator(where, kind, (_compile_node(inner, f"{where}.not", depth + 1),))
        if not isinstance(inner, list) or not inner:
            raise RuleSyntaxError(f"{where}.{kind}", f"'{kind}' takes a non-empty list of conditions")
        return _Combinator(where, kind, tuple(_compile_node(child, f"{where}.{kind}[{i}]", depth + 1)
                                              for i, child in enumerate(inner)))
    return _compile_condition(node, where)


def _compile_condition(node: dict[str, Any], where: str) -> _Condition:
    unknown = sorted(set(node) - {"path", "op", "value"})
    if unknown:
        raise RuleSyntaxError(f"{where}.{unknown[0]}", f"unknown key '{unknown[0]}'; a condition has path, op and "
                                                       "value, a combinator is all, any or not")
    for key in ("path", "op"):
        if key not in node:
            raise RuleSyntaxError(where, f"the condition has no '{key}'")
    op, path = node["op"], node["path"]
    if not isinstance(op, str) or op not in OPS:
        raise RuleSyntaxError(f"{where}.op", f"unknown op {_show(op)}; use one of {', '.join(OPS)}")
    try:
        steps = parse_path(path)
    except ValueError as exc:
        raise RuleSyntaxError(f"{where}.path", f"bad path {path!r}: {exc}") from None
    value = node.get("value")
    if op in _NO_VALUE_OPS:
        if "value" in node:
            raise RuleSyntaxError(f"{where}.value", f"'{op}' takes no value")
        return _Condition(where, path, steps, op, None, None)
    if "value" not in node:
        raise RuleSyntaxError(where, f"'{op}' needs a value")
    compiled = value
    if op in ("lt", "le", "gt", "ge") and _kind(value) not in ("number", "string"):
        raise RuleSyntaxError(f"{where}.value", f"'{op}' compares with a number or a string, not {_kind(value)}")
    if op in ("in", "not_in") and not isinstance(value, list):
        raise RuleSyntaxError(f"{where}.value", f"'{op}' needs a list of values, not {_kind(value)}")
    if op == "regex":
        if not isinstance(value, str):
            raise RuleSyntaxError(f"{where}.value", f"'regex' needs a pattern string, not {_kind(value)}")
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise RuleSyntaxError(f"{where}.value", f"bad regex {_show(value)}: {exc}") from None
    return _Condition(where, path, steps, op, compiled, value)


# ---------------------------------------------------------------------------------------------- the rule


@dataclass(frozen=True, eq=False)
class DeclarativeRule:
    """A compiled definition; implements the Rule protocol of remediation.rules.base."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    annotation: str
    match: Any  # _Condition | _Combinator
    definition: dict[str, Any]
    identifier: str = IDENTIFIER
    parameters: tuple[Param, ...] = ()
    periodic: bool = False

    def evaluate(self, resource: ResourceView, params: dict[str, str] | None = None) -> Evaluation:
        if resource.resource_type not in self.resource_types:
            return Evaluation(NOT_APPLICABLE, f"The rule applies to {', '.join(self.resource_types)} only")
        unresolved = frozenset((resource.context or {}).get("unresolved") or ())
        outcome = self.match.run(_root_data(resource), unresolved)
        if outcome.matched:
            return Evaluation(NON_COMPLIANT, _clip(f"{self.annotation}: {outcome.why}"))
        if outcome.matched is None:
            return Evaluation(INSUFFICIENT_DATA, _clip(f"Not known before launch: {outcome.why}"))
        return Evaluation(COMPLIANT, "No condition matched")

    def evaluate_account(self, account: AccountView, params: dict[str, str] | None = None) -> Evaluation:
        return Evaluation(NOT_APPLICABLE, "A custom declarative rule evaluates resources, not accounts")


def _under(where: str, unresolved: frozenset[str]) -> bool:
    """`where` is an unresolved path or lies below one."""
    return any(where == u or where.startswith((u + ".", u + "[")) for u in unresolved)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ANNOTATION else text[:MAX_ANNOTATION - 1] + "…"


def compile_rule(definition: dict[str, Any]) -> DeclarativeRule:
    """The rule a definition describes; RuleSyntaxError naming the place in the definition that is wrong."""
    if not isinstance(definition, dict):
        raise RuleSyntaxError("", f"a rule definition is a JSON object, not {_kind(definition)}")
    unknown = sorted(set(definition) - set(TOP_LEVEL))
    if unknown:
        raise RuleSyntaxError(unknown[0], f"unknown top-level key '{unknown[0]}'; expected {', '.join(TOP_LEVEL)}")
    types = definition.get("resource_types")
    if not isinstance(types, list) or not types:
        raise RuleSyntaxError("resource_types", "a non-empty list of resource types such as "
                                                "\"AWS::EC2::SecurityGroup\" is required")
    for i, kind in enumerate(types):
        if not isinstance(kind, str) or not _RESOURCE_TYPE.fullmatch(kind):
            raise RuleSyntaxError(f"resource_types[{i}]", f"{_show(kind)} is not a resource type such as "
                                                          "\"AWS::S3::Bucket\"")
    if "match" not in definition:
        raise RuleSyntaxError("match", "the NON_COMPLIANT condition 'match' is required")
    texts = {}
    for key, default in (("annotation", "The resource matches the rule"), ("name", "custom-declarative"),
                         ("description", "")):
        value = definition.get(key, default)
        if not isinstance(value, str) or (key != "description" and not value.strip()):
            raise RuleSyntaxError(key, f"'{key}' must be a non-empty string" if key != "description"
                                  else "'description' must be a string")
        texts[key] = value.strip()
    match = _compile_node(definition["match"], "match")
    return DeclarativeRule(name=texts["name"], description=texts["description"] or texts["annotation"],
                           resource_types=tuple(dict.fromkeys(types)), annotation=texts["annotation"], match=match,
                           definition=definition)


def explain(definition: dict[str, Any], resource: ResourceView | dict[str, Any]) -> list[str]:
    """For the UI's "test it" panel: each condition that holds, with the concrete paths and their values.

    One line per value found, e.g. ``match.any[0]: configuration.ipPermissions[0].ipRanges[1].cidrIp =
    "0.0.0.0/0" (contains 0.0.0.0/0)``; ``match.any[1]: tags.owner is absent``. Every condition is looked at,
    also those the evaluation would skip (after a match in an `any`) or that sit under a `not`; values not known
    before launch are listed as such. Empty when nothing holds or when the resource is not of one of the rule's
    types. `resource`: a ResourceView or a dict with the same keys. RuleSyntaxError as compile_rule."""
    rule = compile_rule(definition)
    kind = resource.resource_type if isinstance(resource, ResourceView) else (resource or {}).get("resource_type")
    if kind not in rule.resource_types:
        return []
    data = _root_data(resource)
    context = resource.context if isinstance(resource, ResourceView) else (resource or {}).get("context")
    unresolved = frozenset((context or {}).get("unresolved") or ())
    lines: list[str] = []
    for leaf in rule.match.leaves():
        unknown: list[str] = []
        for where, value in leaf.hits(data, unresolved, unknown):
            if leaf.op == "absent":
                lines.append(f"{leaf.where}: {where} is absent")
            else:
                lines.append(f"{leaf.where}: {where} = {json.dumps(value, sort_keys=True, default=str)} "
                             f"({leaf.text().removeprefix(leaf.path + ' ')})")
        lines += [f"{leaf.where}: {where} is not known before launch" for where in dict.fromkeys(unknown)]
    return lines
