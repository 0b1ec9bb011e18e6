"""Change history of catalog objects: who, when, what changed (before/after), computed at display time."""

from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from catalog.models import Constraint, Portfolio, Product, ProductVersion

TRACKED = {"portfolio": Portfolio, "product": Product, "version": ProductVersion, "constraint": Constraint}
_IGNORED = {"updated", "created"}
_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryEntry:
    kind: str
    object_id: int
    label: str
    action: str
    user: str
    time: datetime
    changes: list[Change]
    reason: str


def _value(model, field: str, value: Any) -> Any:
    """Plain values as they are; many-to-many changes as the names of the related objects."""
    if not isinstance(value, list):
        return value
    related = model._meta.get_field(field).related_model
    key = related._meta.model_name
    ids = [row.get(key) if isinstance(row, dict) else row for row in value]
    names = dict(related.objects.filter(pk__in=ids).values_list("pk", "name"))
    return ", ".join(sorted(str(names.get(i, f"#{i} (deleted)")) for i in ids)) or "none"


def _entry(kind: str, record, previous) -> HistoryEntry:
    changes: list[Change] = []
    if previous is not None and record.history_type == "~":
        delta = record.diff_against(previous)
        model = TRACKED[kind]
        changes = [Change(c.field, _value(model, c.field, c.old), _value(model, c.field, c.new))
                   for c in delta.changes if c.field not in _IGNORED]
    user = record.history_user.get_username() if record.history_user_id and record.history_user else "system"
    label = str(getattr(record, "name", "") or record.instance)
    if kind == "constraint":
        label = f"{label}: {record.instance.summary}"
    return HistoryEntry(kind=kind, object_id=record.id, label=label,
                        action=_ACTIONS[record.history_type], user=user, time=record.history_date,
                        changes=changes, reason=record.history_change_reason or "")


def _entries(kind: str, records) -> list[HistoryEntry]:
    out = []
    for record in records:
        entry = _entry(kind, record, record.prev_record if record.history_type == "~" else None)
        if entry.action != "changed" or entry.changes:
            out.append(entry)  # a save that changed nothing is not a change
    return out


def object_history(*, kind: str, object_id: int) -> list[HistoryEntry]:
    model = TRACKED[kind]
    records = model.history.filter(id=object_id).select_related("history_user").order_by("-history_date", "-history_id")
    return _entries(kind, records)


def history_log(*, limit: int = 200) -> list[HistoryEntry]:
    """Every catalog change, newest first (the admin log)."""
    per_kind = [
        _entries(kind, model.history.select_related("history_user").order_by("-history_date", "-history_id")[:limit])
        for kind, model in TRACKED.items()
    ]
    return sorted(chain.from_iterable(per_kind), key=lambda e: e.time, reverse=True)[:limit]
