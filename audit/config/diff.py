"""What changed between two configuration items: canonical form, a content hash, and the changed paths.

Pure Python (deepdiff). Lists in AWS configurations carry no meaning in their order (rules, grants, tags),
so they are compared as sets of items and sorted before hashing: a describe that returns the same rules in
another order is no change.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from deepdiff import DeepDiff

__all__ = ["ADDED", "MODIFIED", "REMOVED", "canonical", "content_hash", "changes", "format_path"]

ADDED, REMOVED, MODIFIED = "ADDED", "REMOVED", "MODIFIED"

_KINDS = {
    "values_changed": MODIFIED,
    "type_changes": MODIFIED,
    "dictionary_item_added": ADDED,
    "iterable_item_added": ADDED,
    "attribute_added": ADDED,
    "dictionary_item_removed": REMOVED,
    "iterable_item_removed": REMOVED,
    "attribute_removed": REMOVED,
    "set_item_added": ADDED,
    "set_item_removed": REMOVED,
}


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def canonical(value: Any) -> Any:
    """The same data with dict keys sorted and every list sorted by its items' canonical JSON."""
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        items = [canonical(v) for v in value]
        return sorted(items, key=_dump)
    return value


def content_hash(value: Any) -> str:
    return hashlib.sha256(_dump(canonical(value)).encode()).hexdigest()


def format_path(parts: list[Any]) -> str:
    """``["configuration", "ipPermissions", 0, "ipRanges"]`` -> ``configuration.ipPermissions[0].ipRanges``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Changed paths, each ``{path, change_type, before, after}``, in path order.

    A resource that appears (before None) or goes away (after None) is one change at the root.
    Items moved within a list are no change; an item whose fields changed in place is reported at the field
    (``…ipRanges[0].cidrIp`` went from ``203.0.113.5/32`` to ``0.0.0.0/0``)."""
    if before is None and after is None:
        return []
    if before is None:
        return [{"path": "", "change_type": ADDED, "before": None, "after": after}]
    if after is None:
        return [{"path": "", "change_type": REMOVED, "before": before, "after": None}]
    tree = DeepDiff(canonical(before), canonical(after), ignore_order=True, view="tree", cutoff_intersection_for_pairs=1,
                    cutoff_distance_for_pairs=0.6, verbose_level=2)
    found: list[dict[str, Any]] = []
    for report, kind in _KINDS.items():
        for level in tree.get(report, []):
            found.append({
                "path": format_path(level.path(output_format="list")),
                "change_type": kind,
                "before": None if kind == ADDED else _plain(level.t1),
                "after": None if kind == REMOVED else _plain(level.t2),
            })
    return sorted(found, key=lambda c: (c["path"], c["change_type"]))


def _plain(value: Any) -> Any:
    """deepdiff's placeholder for "not there" as None; the rest as JSON-ready data."""
    if type(value).__name__ == "NotPresent":
        return None
    return json.loads(_dump(value))
