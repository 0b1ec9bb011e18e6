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
    return [entry_of(group[0], tracked, oldest=group[-1]) for group in _by_request(list(records))]


def entry_of(record: Model, tracked: Tracked, *, oldest: Model | None = None) -> Entry:
    """The change `record` made, or, with `oldest`, the changes of one request from `oldest` to `record`."""
    oldest = oldest or record
    action = ACTIONS["+" if oldest.history_type == "+" else record.history_type]
    changes: list[Change] = []
    if action == "changed" and (previous := oldest.prev_record) is not None:
        changes = [Change(c.field, _shown(tracked.model, c.field, c.old), _shown(tracked.model, c.field, c.new))
                   for c in record.diff_against(previous).changes]
    user = record.history_user.get_username() if record.history_user_id and record.history_user else "system"
    return Entry(tracked=tracked, object_id=record.id, history_id=record.history_id, label=_label(record, tracked),
                 action=action, user=user, time=record.history_date, request_id=record.request_id,
                 version=getattr(record, "version", None), changes=changes)


def _by_request(records: list) -> list[list]:
    """Newest-first records cut into groups: the records one request made in a row to one object are one change
    (a form's save and its many-to-many edits), as NetBox groups them."""
    groups: list[list] = []
    for record in records:
        newer = groups[-1][-1] if groups else None
        if (newer is not None and type(record) is type(newer) and record.id == newer.id and record.request_id
                and record.request_id == newer.request_id and newer.history_type == "~"
                and record.history_type != "-"):
            groups[-1].append(record)
        else:
            groups.append([record])
    return groups


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
    ordered = [records[key] for row in rows if (key := (row["h_kind"], row["h_id"])) in records]
    return [entry_of(group[0], TRACKED[type(group[0]).instance_type._meta.label_lower], oldest=group[-1])
            for group in _by_request(ordered)]


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
