"""What changed in the parameters between two versions of a product (what a launcher must know)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .parameter_spec import ParameterSpec

# `order` is left out: one added parameter would otherwise "change" every one after it.
COMPARED = tuple(f.name for f in fields(ParameterSpec) if f.name not in ("key", "order"))


@dataclass(frozen=True)
class FieldChange:
    name: str  # a ParameterSpec attribute: "default", "allowed_values", …
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ParameterChange:
    key: str
    change: str  # "added" | "removed" | "changed"
    fields: list[FieldChange] = field(default_factory=list)  # only for "changed"
    before: ParameterSpec | None = None
    after: ParameterSpec | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "change": self.change, "fields": [f.as_dict() for f in self.fields],
                "before": self.before.as_dict() if self.before else None,
                "after": self.after.as_dict() if self.after else None}


def parameter_diff(old: list[ParameterSpec], new: list[ParameterSpec]) -> list[ParameterChange]:
    """Added, removed and changed parameters, sorted by key; unchanged ones are left out."""
    before = {p.key: p for p in old}
    after = {p.key: p for p in new}
    out = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is None:
            out.append(ParameterChange(key, "added", after=b))
        elif b is None:
            out.append(ParameterChange(key, "removed", before=a))
        else:
            changed = [FieldChange(name, getattr(a, name), getattr(b, name))
                       for name in COMPARED if getattr(a, name) != getattr(b, name)]
            if changed:
                out.append(ParameterChange(key, "changed", changed, before=a, after=b))
    return out
