"""Parse an uploaded CloudFormation template (YAML or JSON) into plain data, keeping line numbers.

cfn-lint's own decoder does the parsing, so the short-form tags (!Ref, !GetAtt a.b, !Sub …) come out
exactly as cfn-lint and CloudFormation read them. Before handing text to it we refuse, cheaply and
with bounded memory, what would make it (or anything walking the result) slow or huge: oversized
text, binary data, YAML alias bombs and very deep nesting.

Rule ids of the refusals: E0000 does not parse (cfn-lint's own id), GR001 too large, GR002 not text,
GR003 YAML alias bomb or self-referencing alias, GR004 nested too deep, GR005 empty or not a mapping,
GR006 no Resources, GR007 over one of CloudFormation's quotas (resources, parameters, outputs, mappings),
GR008 too many values to analyse (cfn-lint's time grows with them: tens of seconds at 100,000).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from portal.json_text import too_deep_at

# CloudFormation accepts at most 1 MB for a template stored in S3 (51,200 bytes inline).
MAX_BYTES = 1_000_000
# Real templates nest ~20 deep; PyYAML's composer and cfn-lint's JSON scanner recurse per level.
MAX_DEPTH = 100
# Nodes that YAML aliases may add once expanded. Ordinary use (a shared tag list) adds dozens;
# a "billion laughs" document adds billions. CloudFormation itself rejects aliases anyway.
MAX_ALIAS_NODES = 10_000
# Keys and values in all. The largest real templates hold a few thousand; linting 50,000 takes ~10 s.
MAX_NODES = 50_000
# CloudFormation's own quotas per template: a template over one could never be launched.
QUOTAS = {"Resources": 500, "Parameters": 200, "Outputs": 200, "Mappings": 200}

PARSE_RULE = "E0000"  # cfn-lint's id for "template does not parse"; ours below are GR0xx.

# YAML's printable set (PyYAML's Reader); anything else means binary data, not a template.
_NOT_TEXT = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class TemplateMessage:
    """One finding about a template: a parse error, a cfn-lint match or one of our own checks."""

    level: str  # "error" | "warning" | "info"
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    rule: str = ""  # cfn-lint id ("E3012") or ours ("GR001")
    path: list[str | int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "message": self.message, "line": self.line, "column": self.column,
                "rule": self.rule, "path": list(self.path)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemplateMessage:
        return cls(level=data["level"], message=data["message"], line=data.get("line"),
                   column=data.get("column"), rule=data.get("rule", ""), path=list(data.get("path") or []))

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.rule} {self.message}" if self.rule else f"{where}{self.message}"


class TemplateError(Exception):
    """The text is not a usable template. `messages` say why, with lines where known."""

    def __init__(self, messages: list[TemplateMessage], *, content_hash: str = "", format: str | None = None):
        self.messages = list(messages)
        self.content_hash = content_hash
        self.format = format
        super().__init__("; ".join(str(m) for m in self.messages))


@dataclass(frozen=True)
class LoadedTemplate:
    template: dict[str, Any]  # plain dicts/lists/str/int/float/bool/None, long-form intrinsics
    format: str  # "yaml" | "json"
    content_hash: str  # sha256 hex of the exact UTF-8 text
    # cfn-lint's decoded tree: the same data, with source marks. Linting and locate() use it.
    nodes: Any = field(default=None, repr=False, compare=False)

    def locate(self, path: list[str | int]) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest element of `path` found in the source."""
        return locate(self.nodes, path, self.format)


def cfn_string(value: Any) -> str:
    """The string CloudFormation makes of a scalar: YAML/JSON true -> "true", 5 -> "5"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ",".join(cfn_string(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(plain(value), sort_keys=True)
    return str(value)


def content_hash(text: str | bytes) -> str:
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


def load_template(text: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
                  max_alias_nodes: int = MAX_ALIAS_NODES, max_nodes: int = MAX_NODES) -> LoadedTemplate:
    """Parse `text`; raise TemplateError (with located messages) if it is not a usable template."""
    digest = content_hash(text)
    fmt: str | None = None
    try:
        body = _as_text(text, max_bytes)
        # JSON goes to the JSON parser: YAML would also accept it, and would wave through a JSON
        # syntax error such as a trailing comma ("{a: 1,}" is a valid YAML flow mapping).
        fmt = "json" if body.lstrip().startswith("{") else "yaml"
        if fmt == "json":
            _check_json_depth(body, max_depth)
            nodes = _decode_json(body)
        else:
            _check_yaml_events(body, max_depth, max_alias_nodes, max_nodes)
            nodes = _decode_yaml(body)
        if not isinstance(nodes, dict):
            raise _error("GR005", f"The template's top level must be a mapping, not {_kind(nodes)}.", 1, 1)
        if not nodes.get("Resources"):  # missing, null, {} or []: CloudFormation needs at least one
            raise _error("GR006", "The template has no Resources; CloudFormation requires at least one.",
                         *(locate(nodes, ["Resources"]) if "Resources" in nodes else (None, None)))
        _check_quotas(nodes)
        _check_node_count(nodes, max_nodes)
    except _Refusal as refusal:
        raise TemplateError([refusal.message], content_hash=digest, format=fmt) from None
    return LoadedTemplate(template=plain(nodes), format=fmt, content_hash=digest, nodes=nodes)


class _Refusal(Exception):
    def __init__(self, message: TemplateMessage):
        self.message = message


def _error(rule: str, message: str, line: int | None = None, column: int | None = None) -> _Refusal:
    return _Refusal(TemplateMessage("error", message, line, column, rule))


def _as_text(text: str | bytes, max_bytes: int) -> str:
    """The text to parse, or a refusal: too big, not UTF-8, binary, empty."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise _error("GR001", f"The template is {size:,} bytes; the limit is {max_bytes:,} bytes.")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            raise _error("GR002", f"The template is not UTF-8 text (byte {exc.start}); is it a binary file?",
                         line) from None
    bad = _NOT_TEXT.search(text)
    if bad:
        raise _error("GR002", f"The template contains the control character U+{ord(bad.group()):04X}; "
                              "a template must be text, not binary data.", *_line_col(text, bad.start()))
    body = text[1:] if text.startswith("\ufeff") else text  # a BOM is legal; json.loads rejects it
    if not body.strip():
        raise _error("GR005", "The template is empty.")
    return body


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _kind(value: Any) -> str:
    for kind, name in ((bool, "a boolean"), (list, "a list"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _check_json_depth(body: str, max_depth: int) -> None:
    at = too_deep_at(body, max_depth)  # linear: a regex skipping strings backtracks on an unterminated one
    if at is not None:
        raise _error("GR004", f"The template nests deeper than {max_depth} levels.", *_line_col(body, at))


def _check_quotas(nodes: dict) -> None:
    for section, quota in QUOTAS.items():
        entries = nodes.get(section)
        if isinstance(entries, dict) and len(entries) > quota:
            raise _error("GR007", f"The template has {len(entries):,} {section}; CloudFormation takes at most "
                                  f"{quota} in one template.", *locate(nodes, [section]))


def _check_node_count(nodes: Any, max_nodes: int) -> None:
    count, stack = 0, [nodes]
    while stack:  # not recursive: the depth is bounded already, but a stack costs nothing
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        if count > max_nodes:
            raise _too_many_nodes(max_nodes)


def _too_many_nodes(max_nodes: int) -> _Refusal:
    return _error("GR008", f"The template holds more than {max_nodes:,} keys and values; the portal analyses "
                           "at most that many (the largest real templates hold a few thousand).")


def _check_yaml_events(body: str, max_depth: int, max_alias_nodes: int, max_nodes: int) -> None:
    """One streaming pass over libyaml's events: nesting depth, the size aliases would expand to, and the
    number of nodes (so that a huge one is refused before the slower, pure-Python parse that keeps lines).

    Events are not composed into nodes, so this is linear in the text and never expands an alias:
    a "billion laughs" document is refused as soon as its expansion passes the limit.
    """
    sizes: dict[str, int] = {}  # anchor -> expanded node count of the anchored node
    stack: list[list[Any]] = []  # open collections: [anchor, expanded size so far]
    added = documents = total = 0
    try:
        for event in yaml.parse(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            at = (event.start_mark.line + 1, event.start_mark.column + 1)
            size = 0
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _error(PARSE_RULE, "The text holds more than one YAML document.", *at)
            elif isinstance(event, yaml.CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) > max_depth:
                    raise _error("GR004", f"The template nests deeper than {max_depth} levels.", *at)
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, size = stack.pop()
            elif isinstance(event, yaml.ScalarEvent):
                anchor, size = event.anchor, 1
            elif isinstance(event, yaml.AliasEvent):
                anchor, size = None, _alias_size(event.anchor, sizes, stack, at)
                added += size
                if added > max_alias_nodes:
                    raise _error("GR003", f"YAML aliases here would expand the template by more than "
                                          f"{max_alias_nodes:,} nodes: refusing a likely alias bomb ('billion "
                                          "laughs'). CloudFormation does not accept YAML aliases at all.", *at)
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                total += size or 1  # an alias counts as what it expands to
                if total > max_nodes:
                    raise _too_many_nodes(max_nodes)
            if size:
                if anchor is not None:
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] += size
    except yaml.MarkedYAMLError as exc:
        raise _yaml_refusal(exc) from None


def _alias_size(anchor: str, sizes: dict[str, int], stack: list[list[Any]], at: tuple[int, int]) -> int:
    if any(frame[0] == anchor for frame in stack):
        raise _error("GR003", f"The YAML alias *{anchor} refers to a collection containing itself.", *at)
    if anchor not in sizes:
        raise _error(PARSE_RULE, f"The YAML alias *{anchor} has no anchor &{anchor} before it.", *at)
    return sizes[anchor]


def _yaml_refusal(exc: yaml.MarkedYAMLError) -> _Refusal:
    mark = exc.problem_mark or exc.context_mark
    message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
    return _error(PARSE_RULE, message[:1].upper() + message[1:], mark.line + 1 if mark else None,
                  mark.column + 1 if mark else None)


def _decode_json(body: str) -> Any:
    from cfnlint.decode import cfn_json  # imported here: cfn-lint takes ~0.5 s to import

    try:
        return cfn_json.loads(body)
    except cfn_json.JSONDecodeError as exc:
        # cfn-lint's JSON positions are off by one: columns count from 2, and duplicate keys get
        # 0-based lines (its syntax errors get 1-based ones).
        if exc.matches[0].message.startswith("Duplicate found"):
            lines = sorted({m.linenumber + 1 for m in exc.matches})
            first = min(exc.matches, key=lambda m: (m.linenumber, m.columnnumber))
            key = first.message.removeprefix("Duplicate found ")
            raise _error(PARSE_RULE, f"Duplicate key {key} (lines {', '.join(map(str, lines))})", lines[0],
                         first.columnnumber - 1) from None
        first = exc.matches[0]
        raise _error(PARSE_RULE, first.message, first.linenumber, max(first.columnnumber - 1, 1)) from None
    except json.JSONDecodeError as exc:
        raise _error(PARSE_RULE, exc.msg, exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:
        raise _error(PARSE_RULE, f"The template could not be parsed as JSON: {exc}") from None


def _decode_yaml(body: str) -> Any:
    from cfnlint.decode import cfn_yaml

    try:
        return cfn_yaml.loads(body)
    except cfn_yaml.CfnParseError as exc:
        if isinstance(exc.__cause__, yaml.MarkedYAMLError):  # e.g. a ConstructorError, wrapped at line 1
            raise _yaml_refusal(exc.__cause__) from None
        first = exc.matches[0]
        message = "; ".join(m.message for m in exc.matches)
        raise _error(PARSE_RULE, message, first.linenumber, first.columnnumber) from None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_refusal(exc) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise _error(PARSE_RULE, f"The template could not be parsed as YAML: {exc}") from None


def plain(node: Any) -> Any:
    """cfn-lint's marked nodes (and YAML's dates, bytes, NaN) as JSON-ready plain data."""
    if isinstance(node, dict):
        return {cfn_string(k): plain(v) for k, v in node.items()}  # YAML allows 1: or true: as keys
    if isinstance(node, (list, tuple)):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)  # drops the str_node subclass and its marks
    if node is None or isinstance(node, (bool, int)):
        return node
    if isinstance(node, float):
        return node if math.isfinite(node) else str(node)  # JSON (and PostgreSQL jsonb) have no NaN/inf
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()  # unquoted `AWSTemplateFormatVersion: 2010-09-09` is a YAML date
    if isinstance(node, bytes):
        return base64.b64encode(node).decode("ascii")
    return str(node)


def locate(nodes: Any, path: list[str | int], fmt: str = "yaml") -> tuple[int | None, int | None]:
    """1-based (line, column) of the deepest element of `path` that exists in cfn-lint's marked tree.

    A mapping entry is located at its key (the `Default:` line), a list item at itself, or at its
    list when the item is a bare number or boolean (those carry no marks).
    """
    mark = getattr(nodes, "start_mark", None)
    node = nodes
    for step in path:
        if isinstance(node, dict):
            key = next((k for k in node if k == step), None)
            if key is None:
                break
            mark = getattr(key, "start_mark", None) or mark
            node = node[key]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            mark = getattr(node, "start_mark", None) or mark
        else:
            break
    if mark is None:
        return None, None
    # cfn-lint's JSON marks count columns from 1 already, its YAML marks (like PyYAML's) from 0.
    return mark.line + 1, mark.column + (0 if fmt == "json" else 1)
