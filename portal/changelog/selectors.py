"""Reads of the change log: an object's changes, one change with its neighbours, every change filtered; each diff
computed at display time against the object's previous record."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import CharField, F, Model, QuerySet, Value

from portal.changelog.registry import TRACKED, Tracked
from portal.roles import User, is_developer, sees_everything

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Entry:
    """One historical record as people read it."""

    tracked: Tracked
    object_id: int
    history_id: int
    label: str
    action: str
    user: str
    time: datetime
    request_id: str
    version: int | None
    changes: list[Change]

    @property
    def kind(self) -> str:
        return self.tracked.kind


def history_visible(*, user: User, tracked: Tracked, object_id: int) -> bool:
    """Admins and auditors see every history; developers that of the objects they can see (not deleted ones)."""
    if sees_everything(user):
        return True
    if tracked.visible is None or not is_developer(user):
        return False
    return tracked.visible(user).filter(pk=object_id).exists()


def object_records(*, tracked: Tracked, object_id: int) -> QuerySet:
    return (tracked.model.history.filter(id=object_id).select_related("history_user")
            .order_by("-history_date", "-history_id"))


def record_get(*, tracked: Tracked, object_id: int, history_id: int) -> Model | None:
    return object_records(tracked=tracked, object_id=object_id).filter(history_id=history_id).first()


def record_neighbours(record: Model) -> tuple[Model | None, Model | None]:
    """The object's change before this one and the one after it."""
    return _safe(lambda: record.prev_record), _safe(lambda: record.next_record)


def entries_of(records, tracked: Tracked) -> list[Entry]:
    return [entry_of(record, tracked) for record in records]


def entry_of(record: Model, tracked: Tracked) -> Entry:
    changes: list[Change] = []
    if record.history_type == "~" and (previous := record.prev_record) is not None:
        changes = [Change(c.field, _shown(tracked.model, c.field, c.old), _shown(tracked.model, c.field, c.new))
                   for c in record.diff_against(previous).changes]
    user = record.history_user.get_username() if record.history_user_id and record.history_user else "system"
    return Entry(tracked=tracked, object_id=record.id, history_id=record.history_id, label=_label(record, tracked),
                 action=ACTIONS[record.history_type], user=user, time=record.history_date,
                 request_id=record.request_id, version=getattr(record, "version", None), changes=changes)


def change_log(*, kind: str = "", username: str = "", request_id: str = "") -> QuerySet | list:
    """Every change of every registered model, newest first, as rows {h_id, h_date, h_object, h_kind}: one UNION
    over the history tables, so the database sorts, counts and pages it."""
    parts = []
    for tracked in TRACKED.values():
        if kind and tracked.kind != kind:
            continue
        records = tracked.model.history.order_by()
        if username:
            records = records.filter(history_user__username=username)
        if request_id:
            records = records.filter(request_id=request_id)
        parts.append(records.values(h_id=F("history_id"), h_date=F("history_date"), h_object=F("id"),
                                    h_kind=Value(tracked.kind, output_field=CharField())))
    if not parts:
        return []
    return parts[0].union(*parts[1:], all=True).order_by("-h_date", "-h_id")


def entries_for_rows(rows) -> list[Entry]:
    """The entries of one page of `change_log` rows: one query per kind on the page, then each diff."""
    rows = list(rows)
    by_kind: dict[str, set[int]] = {}
    for row in rows:
        by_kind.setdefault(row["h_kind"], set()).add(row["h_id"])
    records = {}
    for kind, ids in by_kind.items():
        for record in TRACKED[kind].model.history.filter(history_id__in=ids).select_related("history_user"):
            records[kind, record.history_id] = record
    return [entry_of(records[row["h_kind"], row["h_id"]], TRACKED[row["h_kind"]])
            for row in rows if (row["h_kind"], row["h_id"]) in records]


def _label(record: Model, tracked: Tracked) -> str:
    label = _safe(lambda: str(record.instance))
    return label or f"{tracked.name} #{record.id}"


def _shown(model: type[Model], name: str, value: Any) -> Any:
    """A value as people read it: related objects by name (or as deleted), JSON as compact text."""
    field = model._meta.get_field(name)
    if field.many_to_many and isinstance(value, list):
        target = field.m2m_reverse_field_name()
        ids = [row.get(target) if isinstance(row, dict) else row for row in value]
        names = {obj.pk: str(obj) for obj in field.related_model.objects.filter(pk__in=ids)}
        return ", ".join(sorted(names.get(i, f"#{i} (deleted)") for i in ids)) or "none"
    if field.many_to_one and value is not None:
        related = field.related_model.objects.filter(pk=value).first()
        return str(related) if related is not None else f"#{value} (deleted)"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _safe(read):
    try:
        return read()
    except (ObjectDoesNotExist, AttributeError):
        return None
