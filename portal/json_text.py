"""JSON text that people send (forms, query strings, API bodies, templates), parsed without a RecursionError.

json's scanner, json.dumps and everything that walks a parsed document recurse once per level: text nested a
few thousand deep is a 500 somewhere. It is refused before parsing, by a scan that is linear in the text
(a regular expression that skips whole strings backtracks quadratically on an unterminated one).
"""

import json
import re
from typing import Any

MAX_DEPTH = 100  # real documents (templates, patterns, policies) nest ~20 deep
_SPECIALS = re.compile(r'[\[\]{}"\\]')


def too_deep_at(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first bracket nested deeper than `limit` (brackets inside strings not counted), or None."""
    depth, in_string, escaped_at = 0, False, -1
    for match in _SPECIALS.finditer(text):
        at, char = match.start(), match.group()
        if at == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return at
        elif char in "]}":
            depth -= 1
    return None


def json_parse(text: str | bytes) -> Any:
    """json.loads, raising ValueError (as it does for bad JSON) for text nested deeper than MAX_DEPTH."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if too_deep_at(text) is not None:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return json.loads(text)
