"""EventBridge event patterns, run over the CloudTrail records the portal ingests ("event rules").

A pattern is written in EventBridge's syntax and matched against a record in the shape EventBridge delivers
CloudTrail records (`envelope`)::

    {"version": "0", "id": <eventID>, "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
     "account": ..., "time": <eventTime>, "region": <awsRegion>, "resources": [], "detail": <the record>}

    rule = compile_pattern({"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging"]}})
    rule.matches(envelope(record)), matches(rule, record), rule.explain(envelope(record))

Syntax (as EventBridge): an object's fields are ANDed; a field's value is an object (match the nested field)
or a non-empty array of alternatives (ORed); "$or": [pattern, ...] at any object level. An alternative is a
value (string, number, true/false, null: exact and type-aware, so 5 matches 5.0 but not "5" nor true) or an
object with one operator: prefix / suffix (a string, or {"equals-ignore-case": string}), equals-ignore-case,
wildcard ("*" any run of characters; "\\*" and "\\\\" escape; no "**"), anything-but (a value, an array of
strings or of numbers, or {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}), numeric ([">", 0, "<=", 5]:
lower bound first; or ["=", n]; numbers within ±5e9), exists (true/false), cidr ("10.0.0.0/24", IPv4 or IPv6;
a bare address means /32 or /128; host bits must be zero). Limits: 2,048 characters of compact JSON, objects
nested at most 10 deep. Errors are `PatternError(path, message)`, e.g. "detail.eventName: unknown operator".

Matching:
* Only leaves carry values: a field missing from the event, an object, or an empty array is *absent*, which
  satisfies {"exists": false} and nothing else (anything-but too needs a value). null is a present value.
* An array in the event matches when any of its elements does; an object pattern over an array of objects
  needs one element to satisfy the whole object (EventBridge's array consistency).
* cidr matches an IP-address string inside the range. Beyond EventBridge (which only matches addresses), a
  value in CIDR notation (a security group's cidrIp) matches when its whole range lies inside the pattern's,
  and dotted quads with zero-padded octets ("08.1.250.216", as anonymised logs write them) read as decimal.

"Open to the world" means a rule whose prefix length is 0 -- 0.0.0.0/0, ::/0, but also 208.236.235.254/0,
which AWS accepts and logs as written. {"cidr": "0.0.0.0/0"} contains *every* IPv4 range, so it says "any
IPv4 range", not "the world": say prefix length 0 with {"suffix": "/0"}, as remediation's seeded patterns do.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from portal.json_text import json_parse

__all__ = ["MAX_DEPTH", "MAX_PATTERN_CHARS", "Pattern", "PatternError", "as_event",
           "compile_pattern", "envelope", "matches"]

MAX_PATTERN_CHARS = 2048
MAX_DEPTH = 10
NUMERIC_LIMIT = 5.0e9

_DETAIL_TYPES = {
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsConsoleAction": "AWS Console Action via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
    "AwsCloudTrailInsight": "AWS Insight via CloudTrail",
}

class PatternError(ValueError):
    """`path` says where in the pattern (``detail.eventName``; "" for the whole), `message` what is wrong."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(path, message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# --- the event -------------------------------------------------------------------------------------------

def envelope(record: dict[str, Any]) -> dict[str, Any]:
    """A raw CloudTrail record in the shape EventBridge delivers it (keys it cannot know are left out)."""
    event: dict[str, Any] = {"version": "0", "id": record.get("eventID") or "",
                             "detail-type": _DETAIL_TYPES.get(record.get("eventType"), _DETAIL_TYPES["AwsApiCall"])}
    service = record.get("eventSource")
    if isinstance(service, str) and service:
        event["source"] = "aws." + service.removesuffix(".amazonaws.com")
    identity = record.get("userIdentity")
    account = record.get("recipientAccountId") or (identity.get("accountId") if isinstance(identity, dict) else None)
    for key, value in (("account", account), ("time", record.get("eventTime")), ("region", record.get("awsRegion"))):
        if value is not None:
            event[key] = value
    event["resources"] = []
    event["detail"] = record
    return event


def as_event(record_or_event: dict[str, Any]) -> dict[str, Any]:
    """`record_or_event` itself when already enveloped (it has "detail-type" and "detail"), else `envelope`d."""
    if isinstance(record_or_event, dict) and "detail-type" in record_or_event and "detail" in record_or_event:
        return record_or_event
    return envelope(record_or_event)


def matches(pattern: Pattern | dict[str, Any] | str, record_or_event: dict[str, Any]) -> bool:
    """Whether `pattern` (compiled or not) matches a raw CloudTrail record or an enveloped event."""
    compiled = pattern if isinstance(pattern, Pattern) else compile_pattern(pattern)
    return compiled.matches(as_event(record_or_event))


# --- compiling -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Matcher:
    spec: Any                      # the alternative as written, for explanations
    test: Callable[[Any], bool]    # on one present leaf value
    on_absent: bool = False        # only {"exists": false} is satisfied by an absent field


@dataclass(frozen=True)
class _Leaf:
    matchers: tuple[_Matcher, ...]
    spec: list[Any]


@dataclass(frozen=True)
class _Node:
    fields: tuple[tuple[str, _Node | _Leaf], ...]
    alternatives: tuple[_Node, ...] = ()   # "$or" (empty: none)


OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr")


def compile_pattern(pattern: dict[str, Any] | str) -> Pattern:
    """Validate `pattern` (a dict or its JSON text) and compile it; raises PatternError."""
    data = pattern
    if isinstance(pattern, (str, bytes)):
        try:
            data = json_parse(pattern)
        except ValueError as exc:
            raise PatternError("", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PatternError("", "a pattern is a JSON object")
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise PatternError("", f"not expressible as JSON ({exc})") from None
    if len(text) > MAX_PATTERN_CHARS:
        raise PatternError("", f"{len(text)} characters of JSON; a pattern has at most {MAX_PATTERN_CHARS}")
    return Pattern(data, text, _node(data, "", 1))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _node(obj: dict[str, Any], path: str, depth: int) -> _Node:
    if depth > MAX_DEPTH:
        raise PatternError(path, f"objects nest more than {MAX_DEPTH} deep")
    fields: list[tuple[str, _Node | _Leaf]] = []
    alternatives: tuple[_Node, ...] = ()
    for key, value in obj.items():
        if not isinstance(key, str):
            raise PatternError(path, f"field names are strings, not {key!r}")
        here = _join(path, key)
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(here, "$or takes an array of at least two patterns")
            for i, branch in enumerate(value):
                if not isinstance(branch, dict) or not branch:
                    raise PatternError(f"{here}[{i}]", "each $or alternative is a non-empty object")
            alternatives = tuple(_node(branch, f"{here}[{i}]", depth) for i, branch in enumerate(value))
        elif isinstance(value, dict):
            fields.append((key, _node(value, here, depth + 1)))
        elif isinstance(value, list):
            fields.append((key, _leaf(value, here)))
        elif key in OPERATORS:
            parent = path.rpartition(".")[2] or "field"
            raise PatternError(here, f'an operator goes inside an array: "{parent}": [{{"{key}": ...}}]')
        else:
            raise PatternError(here, f"must be an array of values to match or an object, not {_show(value)}")
    return _Node(tuple(fields), alternatives)


def _leaf(items: list[Any], path: str) -> _Leaf:
    if not items:
        raise PatternError(path, "an empty array matches nothing")
    matchers = []
    for item in items:
        if isinstance(item, dict):
            matchers.append(_operator(item, path))
        elif isinstance(item, list):
            raise PatternError(path, "arrays do not nest inside a match array")
        else:
            matchers.append(_Matcher(item, _exact(item)))
    return _Leaf(tuple(matchers), items)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, never a bool for a number, never a string for either."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _exact(expected: Any) -> Callable[[Any], bool]:
    return lambda value: _same(value, expected)


def _string(value: Any, path: str, what: str) -> str:
    if not isinstance(value, str):
        raise PatternError(path, f"{what} takes a string, not {_show(value)}")
    return value


def _strings(value: Any, path: str, what: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise PatternError(path, f"{what} takes a string or a non-empty array of strings, not {_show(value)}")
    return values


def _affix(arg: Any, path: str, op: str) -> Callable[[Any], bool]:
    """prefix / suffix, exact or {"equals-ignore-case": ...}."""
    fold = False
    if isinstance(arg, dict):
        if list(arg) != ["equals-ignore-case"]:
            raise PatternError(path, f'{op} takes a string or {{"equals-ignore-case": string}}, not {_show(arg)}')
        arg, fold = arg["equals-ignore-case"], True
    text = _string(arg, path, op)
    if fold:
        text = text.casefold()
    check = str.startswith if op == "prefix" else str.endswith
    return lambda v: isinstance(v, str) and check(v.casefold() if fold else v, text)


def _wildcard(arg: Any, path: str) -> Callable[[Any], bool]:
    text = _string(arg, path, "wildcard")
    if "**" in text:
        raise PatternError(path, f"wildcard {text!r}: consecutive * are not allowed")
    parts, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if text[i + 1:i + 2] not in ("*", "\\"):
                raise PatternError(path, f"wildcard {text!r}: only \\* and \\\\ are escapes")
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _anything_but(arg: Any, path: str) -> Callable[[Any], bool]:
    if isinstance(arg, dict):
        if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise PatternError(path, "anything-but takes a value, an array, or one of prefix, suffix, "
                                     f"equals-ignore-case, wildcard; not {_show(arg)}")
        (op, inner), = arg.items()
        if op in ("prefix", "suffix"):
            test = _affix(_string(inner, path, f"anything-but {op}"), path, op)
        else:
            make = _ignore_case if op == "equals-ignore-case" else _wildcard
            tests = [make(s, path) for s in _strings(inner, path, f"anything-but {op}")]
            test = (lambda v: any(t(v) for t in tests))
        return lambda v: not test(v)
    values = arg if isinstance(arg, list) else [arg]
    if not values or not (all(isinstance(v, str) for v in values) or all(_is_number(v) for v in values)):
        raise PatternError(path, f"anything-but takes a string, a number, or an array of strings or of numbers, "
                                 f"not {_show(arg)}")
    return lambda v: not any(_same(v, x) for x in values)


def _ignore_case(arg: Any, path: str) -> Callable[[Any], bool]:
    text = _string(arg, path, "equals-ignore-case").casefold()
    return lambda v: isinstance(v, str) and v.casefold() == text


_LOWER, _UPPER = {">": float.__gt__, ">=": float.__ge__}, {"<": float.__lt__, "<=": float.__le__}


def _numeric(arg: Any, path: str) -> Callable[[Any], bool]:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise PatternError(path, f'numeric takes [op, number] or [">"/">=", low, "<"/"<=", high], not {_show(arg)}')
    pairs = list(zip(arg[::2], arg[1::2]))
    for op, number in pairs:
        if op not in ("=", *_LOWER, *_UPPER):
            raise PatternError(path, f"numeric: unknown comparison {_show(op)} (=, <, <=, >, >=)")
        if not _is_number(number) or abs(number) > NUMERIC_LIMIT:
            raise PatternError(path, f"numeric: {_show(number)} is not a number within ±{NUMERIC_LIMIT:g}")
    if len(pairs) == 2:
        (low_op, low), (high_op, high) = pairs
        if low_op not in _LOWER or high_op not in _UPPER:
            raise PatternError(path, 'numeric: a range is a lower bound (">" or ">=") then an upper ("<" or "<=")')
        if low > high or (low == high and (low_op, high_op) != (">=", "<=")):
            raise PatternError(path, f"numeric: the range {_show(arg)} is empty")
    if pairs[0][0] == "=":
        target = float(pairs[0][1])
        return lambda v: _is_number(v) and float(v) == target
    checks = [({**_LOWER, **_UPPER}[op], float(n)) for op, n in pairs]
    return lambda v: _is_number(v) and all(check(float(v), n) for check, n in checks)


def _cidr(arg: Any, path: str) -> Callable[[Any], bool]:
    text = _string(arg, path, "cidr")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise PatternError(path, f"cidr: {text!r} is not an IPv4 or IPv6 address or range") from None
    if ipaddress.ip_address(text.partition("/")[0]) != network.network_address:
        raise PatternError(path, f"cidr: {text!r} has host bits set; the range is {network}")

    def test(value: Any) -> bool:
        found = _ip_range(value) if isinstance(value, str) else None
        return found is not None and found.version == network.version and found.subnet_of(network)
    return test


_PADDED_QUAD = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")


@lru_cache(maxsize=4096)
def _ip_range(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address (as a /32 or /128) or a CIDR range (host bits ignored), or None when `text` is neither."""
    address, slash, length = text.strip().partition("/")
    quad = _PADDED_QUAD.fullmatch(address)
    if quad and all(int(octet) <= 255 for octet in quad.groups()):
        address = ".".join(str(int(octet)) for octet in quad.groups())
    try:
        return ipaddress.ip_network(f"{address}/{length}" if slash else address, strict=False)
    except ValueError:
        return None


def _operator(item: dict[str, Any], path: str) -> _Matcher:
    if len(item) != 1:
        raise PatternError(path, f"an operator object has exactly one key, not {_show(item)}")
    (op, arg), = item.items()
    if op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(path, f"exists takes true or false, not {_show(arg)}")
        return _Matcher(item, lambda v: arg, on_absent=not arg)
    if op not in _BUILDERS:
        raise PatternError(path, f"unknown operator {_show(op)} (known: {', '.join(OPERATORS)})")
    return _Matcher(item, _BUILDERS[op](arg, path))


_BUILDERS: dict[str, Callable[[Any, str], Callable[[Any], bool]]] = {
    "prefix": lambda arg, path: _affix(arg, path, "prefix"), "suffix": lambda arg, path: _affix(arg, path, "suffix"),
    "equals-ignore-case": _ignore_case, "wildcard": _wildcard, "anything-but": _anything_but, "numeric": _numeric,
    "cidr": _cidr}


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


# --- matching --------------------------------------------------------------------------------------------

_ABSENT = object()


def _node_ok(node: _Node, value: Any) -> bool:
    if isinstance(value, list):
        if value:
            return any(_node_ok(node, element) for element in value)
        value = _ABSENT
    get = value.get if isinstance(value, dict) else None
    for key, child in node.fields:
        found = get(key, _ABSENT) if get else _ABSENT
        if not (_leaf_ok(child, found) if isinstance(child, _Leaf) else _node_ok(child, found)):
            return False
    return not node.alternatives or any(_node_ok(branch, value) for branch in node.alternatives)


def _leaf_values(value: Any, path: str) -> list[tuple[str, Any]]:
    """The leaf values at `value` with their paths: none for absent, objects and empty arrays."""
    if value is _ABSENT or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [found for i, element in enumerate(value) for found in _leaf_values(element, f"{path}[{i}]")]
    return [(path, value)]


def _leaf_ok(leaf: _Leaf, value: Any) -> bool:
    if isinstance(value, (list, dict)) or value is _ABSENT:
        values = [v for _, v in _leaf_values(value, "")]
        if not values:
            return any(m.on_absent for m in leaf.matchers)
        return any(m.test(v) for v in values for m in leaf.matchers)
    return any(m.test(value) for m in leaf.matchers)


def _explain_leaf(leaf: _Leaf, value: Any, path: str) -> tuple[bool, list[str]]:
    values = _leaf_values(value, path)
    if not values:
        why = ("absent" if value is _ABSENT else "an object, not a value" if isinstance(value, dict)
               else "an empty array")
        absent_ok = next((m for m in leaf.matchers if m.on_absent), None)
        if absent_ok:
            return True, [f"{path}: {why}, matched {_show(absent_ok.spec)}"]
        return False, [f"{path}: {why}; needed {_show(leaf.spec)}"]
    for where, found in values:
        for matcher in leaf.matchers:
            if matcher.test(found):
                return True, [f"{where}: {_show(found)} matched {_show(matcher.spec)}"]
    shown = _show(value) if len(values) > 1 else _show(values[0][1])
    return False, [f"{path}: {shown} did not match {_show(leaf.spec)}"]


def _explain_node(node: _Node, value: Any, path: str) -> tuple[bool, list[str]]:
    if isinstance(value, list) and value:
        first_failure: list[str] = []
        for i, element in enumerate(value):
            ok, lines = _explain_node(node, element, f"{path}[{i}]")
            if ok:
                return True, lines
            first_failure = first_failure or lines
        return False, [f"{path}: no element of the array matched; the first one:"] + ["  " + x for x in first_failure]
    if isinstance(value, list):
        value = _ABSENT
    matched: list[str] = []
    for key, child in node.fields:
        here = _join(path, key)
        found = value.get(key, _ABSENT) if isinstance(value, dict) else _ABSENT
        ok, lines = (_explain_leaf(child, found, here) if isinstance(child, _Leaf)
                     else _explain_node(child, found, here))
        if not ok:
            return False, lines
        matched += lines
    if node.alternatives:
        where, failures = _join(path, "$or"), []
        for i, branch in enumerate(node.alternatives):
            ok, lines = _explain_node(branch, value, path)
            if ok:
                return True, matched + [f"{where}: alternative {i + 1} of {len(node.alternatives)} matched"] + lines
            failures += [f"  alternative {i + 1}: {lines[0]}"] + ["  " + x for x in lines[1:]]
        return False, [f"{where}: none of the {len(node.alternatives)} alternatives matched"] + failures
    return True, matched


class Pattern:
    """A compiled pattern: `pattern` as given (a dict), `json` its compact text."""

    __slots__ = ("_root", "json", "pattern")

    def __init__(self, pattern: dict[str, Any], text: str, root: _Node):
        self.pattern = pattern
        self.json = text
        self._root = root

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether the enveloped `event` matches (see `as_event` for raw records)."""
        return _node_ok(self._root, event)

    def explain(self, event: dict[str, Any]) -> list[str]:
        """For a match, a line per field that matched; otherwise the first failure (with $or's alternatives)."""
        if not self._root.fields and not self._root.alternatives:
            return ["the empty pattern matches every event"]
        lines = _explain_node(self._root, event, "")[1]
        return lines or ["matched: the pattern sets no condition"]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.json == self.json

    def __hash__(self) -> int:
        return hash(self.json)

    def __repr__(self) -> str:
        return f"Pattern({self.json})"
