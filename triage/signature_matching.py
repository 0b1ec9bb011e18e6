"""Matching CloudTrail events against signatures: an EventBridge pattern plus conditions over the enriched event.

Signatures are indexed by the exact event names their patterns ask for, so an event is tested only against the
signatures that could match it (and those whose pattern names no event): matching cost grows with the number of
signatures that share an event name, not with the number of signatures. Pure: no database access here; the
caller builds the `EventView` (the event with its org context) and keeps the threshold counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from audit.cloudtrail.patterns import Pattern, as_event, compile_pattern

CONDITIONS = ("teams", "not_teams", "mfa", "outside_allowed_regions", "hours", "other_user", "errors", "threshold")
THRESHOLD_BY = ("identity", "source_ip", "account")


@dataclass(frozen=True)
class EventView:
    """A CloudTrail event with what the portal knows around it."""

    event_id: str
    time: datetime | None
    raw: dict[str, Any]
    account_id: str = ""
    region: str = ""
    identity: str = ""  # the user name, else the identity's ARN
    user_name: str = ""  # userIdentity.userName (an IAM user calling), "" for roles
    source_ip: str = ""
    mfa: bool | None = None
    error_code: str = ""
    team: str = ""  # the account's team (slug)
    allowed_regions: tuple[str, ...] | None = None  # the account's, when the portal knows the account

    @classmethod
    def from_record(cls, record: dict[str, Any], context: dict[str, Any] | None = None) -> EventView:
        """A raw record (or an EventBridge-enveloped one) with a context {team, allowed_regions}: for the tests."""
        raw = record.get("detail") if isinstance(record.get("detail"), dict) and "detail-type" in record else record
        identity = raw.get("userIdentity") if isinstance(raw.get("userIdentity"), dict) else {}
        attributes = ((identity.get("sessionContext") or {}).get("attributes") or {})
        mfa = attributes.get("mfaAuthenticated")
        context = context or {}
        allowed = context.get("allowed_regions")
        user = str(identity.get("userName") or "")
        return cls(event_id=str(raw.get("eventID") or ""), time=None, raw=raw,
                   account_id=str(raw.get("recipientAccountId") or identity.get("accountId") or ""),
                   region=str(raw.get("awsRegion") or ""), identity=user or str(identity.get("arn") or ""),
                   user_name=user, source_ip=str(raw.get("sourceIPAddress") or ""),
                   mfa=None if mfa is None else str(mfa).lower() == "true",
                   error_code=str(raw.get("errorCode") or ""), team=str(context.get("team") or ""),
                   allowed_regions=tuple(allowed) if allowed is not None else None)

    def threshold_key(self, by: str) -> str:
        return {"identity": self.identity, "source_ip": self.source_ip, "account": self.account_id}.get(by, "")


def conditions_check(conditions: Any) -> None:
    """ValueError naming what is wrong in a signature's conditions."""
    if not isinstance(conditions, dict):
        raise ValueError("conditions: give an object")
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"conditions.{unknown[0]}: unknown condition (known: {', '.join(CONDITIONS)})")
    for key in ("teams", "not_teams"):
        if key in conditions and (not isinstance(conditions[key], list)
                                  or not all(isinstance(t, str) for t in conditions[key])):
            raise ValueError(f"conditions.{key}: give a list of team slugs")
    for key in ("mfa", "outside_allowed_regions", "other_user", "errors"):
        if key in conditions and not isinstance(conditions[key], bool):
            raise ValueError(f"conditions.{key}: give true or false")
    if "hours" in conditions:
        hours = conditions["hours"]
        if not isinstance(hours, dict) or set(hours) != {"from", "to"} or not all(
                isinstance(hours[k], int) and not isinstance(hours[k], bool) and 0 <= hours[k] <= 23 for k in hours):
            raise ValueError('conditions.hours: give {"from": 0-23, "to": 0-23} (UTC; from 22 to 6 wraps midnight)')
    if "threshold" in conditions:
        threshold = conditions["threshold"]
        ok = isinstance(threshold, dict) and set(threshold) <= {"count", "minutes", "by"} and all(
            isinstance(threshold.get(k), int) and not isinstance(threshold.get(k), bool) and threshold[k] >= 1
            for k in ("count", "minutes")) and threshold.get("by", "identity") in THRESHOLD_BY
        if not ok:
            raise ValueError('conditions.threshold: give {"count": N ≥ 1, "minutes": M ≥ 1, "by": '
                             '"identity" | "source_ip" | "account"}')


def _hour_in(hour: int, start: int, end: int) -> bool:
    return start <= hour < end if start <= end else hour >= start or hour < end


def conditions_hold(conditions: dict[str, Any], view: EventView) -> tuple[bool, str]:
    """The stateless conditions (the threshold is counted by the caller); (held, why not)."""
    if conditions.get("teams") and view.team not in conditions["teams"]:
        return False, f"team {view.team or '(none)'} is not one of {', '.join(conditions['teams'])}"
    if view.team and view.team in (conditions.get("not_teams") or []):
        return False, f"team {view.team} is excluded"
    if "mfa" in conditions and bool(view.mfa) != conditions["mfa"]:
        return False, f"MFA {'used' if view.mfa else 'not used'}"
    if conditions.get("outside_allowed_regions"):
        if not view.allowed_regions or not view.region or view.region in view.allowed_regions:
            return False, f"region {view.region or '(none)'} is allowed (or the account is unknown)"
    if "errors" in conditions and bool(view.error_code) != conditions["errors"]:
        return False, "the call failed" if view.error_code else "the call succeeded"
    if "hours" in conditions and view.time is not None:
        hours = conditions["hours"]
        if not _hour_in(view.time.hour, hours["from"], hours["to"]):
            return False, f"{view.time:%H:%M} UTC is outside {hours['from']}:00-{hours['to']}:00"
    if conditions.get("other_user"):
        target = str((view.raw.get("requestParameters") or {}).get("userName") or "")
        if not target or target == view.user_name:
            return False, "not done to another user"
    return True, ""


@dataclass
class Compiled:
    """A signature ready to match: what the index and the caller need of it."""

    name: str
    pattern: Pattern
    conditions: dict[str, Any]
    ref: Any = None  # the caller's object (a Signature row)
    names: frozenset[str] | None = None  # the exact event names it can match; None: any


def event_names(pattern: dict[str, Any]) -> frozenset[str] | None:
    """The exact eventName values a pattern requires, or None when it does not name them exactly."""
    detail = pattern.get("detail")
    if not isinstance(detail, dict):
        return None
    names = detail.get("eventName")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return frozenset(names)
    return None


def compile_signature(name: str, pattern: Any, conditions: dict[str, Any] | None = None, ref: Any = None) -> Compiled:
    """ValueError naming the problem (in the pattern or the conditions)."""
    compiled = compile_pattern(pattern)
    conditions = conditions or {}
    conditions_check(conditions)
    source = pattern if isinstance(pattern, dict) else json.loads(pattern)
    return Compiled(name, compiled, conditions, ref, event_names(source))


def _exact(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str | bool) for v in values)


def exact_leaf(pattern: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """A field the pattern requires to be one of a few exact values (not under $or), with those values."""
    if not isinstance(pattern, dict):
        return None
    for key, value in pattern.items():
        if key == "$or":
            continue
        if _exact(value):
            return (*path, key), frozenset(_key(v) for v in value)
    for key, value in pattern.items():
        if key != "$or" and isinstance(value, dict):
            found = exact_leaf(value, (*path, key))
            if found is not None:
                return found
    return None


def _key(value: Any) -> str:
    return json.dumps(value)


def _values_at(event: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    current: list[Any] = [event]
    for part in path:
        nxt = []
        for item in current:
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict) and part in element:
                    nxt.append(element[part])
        current = nxt
    out = []
    for item in current:
        out.extend(item if isinstance(item, list) else [item])
    return out


@dataclass
class SignatureIndex:
    """Signatures by the event names they ask for; a signature that names none is filed under another field it
    requires exact values of (userIdentity.type, readOnly ...); only the rest are tried on every event."""

    by_name: dict[str, list[Compiled]] = field(default_factory=dict)
    by_field: dict[tuple[str, ...], dict[str, list[Compiled]]] = field(default_factory=dict)
    anywhere: list[Compiled] = field(default_factory=list)

    @classmethod
    def build(cls, signatures: Iterable[Compiled]) -> SignatureIndex:
        index = cls()
        for signature in signatures:
            if signature.names is not None:
                for name in signature.names:
                    index.by_name.setdefault(name, []).append(signature)
                continue
            leaf = exact_leaf(signature.pattern.pattern)
            if leaf is None:
                index.anywhere.append(signature)
                continue
            path, values = leaf
            for value in values:
                index.by_field.setdefault(path, {}).setdefault(value, []).append(signature)
        return index

    def candidates(self, event_name: str, enveloped: dict[str, Any] | None = None) -> list[Compiled]:
        found = self.by_name.get(event_name, []) + self.anywhere
        if self.by_field and enveloped is not None:
            seen = {id(s) for s in found}
            for path, groups in self.by_field.items():
                for value in _values_at(enveloped, path):
                    for signature in groups.get(_key(value), ()):
                        if id(signature) not in seen:
                            seen.add(id(signature))
                            found.append(signature)
        return found

    def match(self, view: EventView) -> list[Compiled]:
        """The signatures whose pattern and stateless conditions hold for this event."""
        enveloped = as_event(view.raw)
        return [signature for signature in self.candidates(str(view.raw.get("eventName") or ""), enveloped)
                if signature.pattern.matches(enveloped) and conditions_hold(signature.conditions, view)[0]]

    def __len__(self) -> int:
        every = [s for group in self.by_name.values() for s in group] + self.anywhere + [
            s for groups in self.by_field.values() for group in groups.values() for s in group]
        return len({id(s) for s in every})


# --- a signature's own tests ---

def records_in(example: Any) -> list[dict[str, Any]]:
    """An example as records: a record, an EventBridge event, {"Records": [...]}, or a StreamAlert test case."""
    if isinstance(example, dict) and "data" in example and "trigger_rules" in example:
        example = example["data"]
    if isinstance(example, dict) and isinstance(example.get("Records"), list):
        return [r for r in example["Records"] if isinstance(r, dict)]
    if isinstance(example, list):
        return [r for r in example if isinstance(r, dict)]
    return [example] if isinstance(example, dict) else []


@dataclass(frozen=True)
class ExampleResult:
    kind: str  # "positive" | "negative"
    index: int
    passed: bool
    detail: str  # why it matched or not


def run_examples(compiled: Compiled, tests: dict[str, Any]) -> list[ExampleResult]:
    """Each positive example must match, each negative one must not. An example is an event, or
    {"event": ..., "context": {"team": ..., "allowed_regions": [...]}}. The threshold is not counted here."""
    results = []
    for kind in ("positive", "negative"):
        for index, example in enumerate(tests.get(kind) or []):
            context = example.get("context") if isinstance(example, dict) and "event" in example else None
            records = records_in(example["event"] if context is not None or (
                isinstance(example, dict) and "event" in example) else example)
            if not records:
                results.append(ExampleResult(kind, index, False, "not an event"))
                continue
            matched, details = False, []
            for record in records:
                view = EventView.from_record(record, context)
                enveloped = as_event(view.raw)
                if not compiled.pattern.matches(enveloped):
                    details.append("; ".join(compiled.pattern.explain(enveloped))[:300] or "the pattern does not match")
                    continue
                held, why = conditions_hold(compiled.conditions, view)
                if held:
                    matched = True
                    details.append(f"matches {view.raw.get('eventName', '')}")
                    break
                details.append(f"pattern matches, but {why}")
            passed = matched if kind == "positive" else not matched
            results.append(ExampleResult(kind, index, passed, " | ".join(details)[:500]))
    return results
