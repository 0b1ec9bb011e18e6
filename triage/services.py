"""Triage writes: stored events matched against the signatures, hits recorded, alerts raised and deduplicated;
signatures saved (checked, versioned), staged and promoted; alert status changes."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit import handoffs
from audit.models import CloudTrailEvent
from portal.models import Account, Team
from portal.notifications import notify
from remediation.actions import action_by_name
from remediation.policy_runs import alert_actions_start
from triage import org
from triage.models import Alert, AlertStatus, Severity, Signature, SignatureHit
from triage.org import principal_for
from triage.signature_matching import EventView, SignatureIndex, compile_signature, conditions_check, run_examples
from triage.tickets import outputs_after

log = logging.getLogger(__name__)
OUTPUT_ACTIONS = ("alert", "notify", "ticket", "webhook")  # besides these, a chain may name remediation actions
EVENT_IDS_KEPT = 100


# --- matching stored events ---

def index_build(signatures: Iterable[Signature] | None = None) -> SignatureIndex:
    """The signatures that are not OFF, compiled (one that no longer compiles is skipped and logged)."""
    compiled = []
    rows = signatures if signatures is not None else Signature.objects.exclude(status=Signature.Status.OFF)
    for signature in rows:
        try:
            compiled.append(compile_signature(signature.name, signature.pattern, signature.conditions, signature))
        except ValueError as exc:
            log.warning("signature %s cannot run: %s", signature.name, exc)
    return SignatureIndex.build(compiled)


def event_view(event: CloudTrailEvent, accounts: dict[str, Account]) -> EventView:
    account = accounts.get(event.account_id)
    team = account.team.slug if account is not None else ""
    view = EventView.from_record(event.raw, {"team": team, "allowed_regions": account.allowed_regions
                                              if account is not None else None})
    return EventView(**{**view.__dict__, "time": event.event_time, "event_id": event.event_id})


def events_match(event_ids: list[str], *, index: SignatureIndex | None = None) -> list[int]:
    """Match stored events against the signatures; record each hit once; raise or update alerts for ACTIVE
    signatures (STAGING ones only count). Returns the alerts raised or updated. Safe to run twice."""
    index = index if index is not None else index_build()
    if not len(index):
        return []
    accounts = {a.account_id: a for a in Account.objects.select_related("team")}
    touched: list[int] = []
    for event in CloudTrailEvent.objects.filter(event_id__in=event_ids).prefetch_related("resources"):
        view = event_view(event, accounts)
        occurrence = event_occurrence(event, view)
        for compiled in index.match(view):
            alert = occurrence_hit(compiled.ref, occurrence, view)
            if alert is not None:
                touched.append(alert.pk)
    return touched


@dataclass(frozen=True)
class Occurrence:
    """What a signature matched, whatever its source (a CloudTrail event, a flow-log detection): enough to record
    the hit and raise the alert."""

    event_id: str  # unique per source: a CloudTrail eventID, or "flow-<detection id>"
    time: datetime
    what: str  # for the alert's title: the event name, or the detection's kind
    resource_type: str
    resource_id: str
    who: Callable[[], tuple[Team | None, str]]  # the team and owner, asked only when an alert is created


def event_occurrence(event: CloudTrailEvent, view: EventView) -> Occurrence:
    touched = next(iter(event.resources.all()), None)
    return Occurrence(event_id=event.event_id, time=event.event_time, what=event.event_name,
                      resource_type=touched.resource_type if touched else "",
                      resource_id=touched.resource_id if touched else "", who=lambda: _who(event, view))


def occurrence_hit(signature: Signature, occurrence: Occurrence, view: EventView) -> Alert | None:
    """Record the hit once (the same occurrence twice is one hit); past the threshold, raise or update the alert."""
    threshold = signature.conditions.get("threshold")
    key = view.threshold_key(threshold.get("by", "identity")) if threshold else view.identity
    staged = signature.status == Signature.Status.STAGING
    try:
        with transaction.atomic():
            hit = SignatureHit.objects.create(signature=signature, version=signature.version,
                                              event_id=occurrence.event_id, time=occurrence.time, key=key[:300],
                                              staged=staged)
    except IntegrityError:
        return None  # this event hit this signature already
    if staged:
        return None
    if threshold:
        since = occurrence.time - timedelta(minutes=threshold["minutes"])
        count = SignatureHit.objects.filter(signature=signature, key=hit.key, staged=False, time__gt=since,
                                            time__lte=occurrence.time).count()
        if count < threshold["count"]:
            return None
    alert = alert_raise(signature, occurrence, view)
    SignatureHit.objects.filter(pk=hit.pk).update(alert=alert)
    return alert


def fingerprint(signature: Signature, view: EventView, resource_id: str) -> str:
    """The same signature, account, identity and resource: the same alert."""
    text = "|".join((signature.name, view.account_id, view.identity, resource_id))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def events_handoff_take(handoff_id: int) -> int:
    """The signatures over new events handed on by ingest (audit.handoffs); and the org context read again after
    the calls that change it. How many alerts were raised or updated."""
    handoff = handoffs.handoff_claim(handoff_id)
    if handoff is None:
        return 0
    event_ids = list(handoff.event_ids)
    raised = len(events_match(event_ids))
    changing = CloudTrailEvent.objects.filter(event_id__in=event_ids, error_code="", event_name__in=sorted(
        org.ORG_EVENTS | org.IAM_EVENTS | org.TAG_EVENTS)).values_list("event_name", "account_id")
    if changing:
        org.events_sync({name for name, _ in changing}, {account for _, account in changing})
    handoffs.handoff_done(handoff)
    return raised


def alert_raise(signature: Signature, occurrence: Occurrence, view: EventView) -> Alert:
    """One alert per fingerprint while it is open (a counter, first and last seen); a resolved one that hits
    again within the signature's window reopens; else a new alert."""
    fp = fingerprint(signature, view, occurrence.resource_id)
    when = occurrence.time
    for _ in range(3):  # a concurrent writer may create the open alert between our read and our insert
        try:
            with transaction.atomic():
                alert = Alert.objects.select_for_update().filter(fingerprint=fp).exclude(
                    status=AlertStatus.RESOLVED).first()
                reopened = False
                if alert is None:
                    alert = Alert.objects.select_for_update().filter(
                        fingerprint=fp, status=AlertStatus.RESOLVED,
                        last_seen__gte=when - timedelta(minutes=signature.dedup_minutes)).order_by("-last_seen").first()
                    reopened = alert is not None
                if alert is not None:
                    alert.count += 1
                    alert.last_seen = max(alert.last_seen, when)
                    alert.first_seen = min(alert.first_seen, when)
                    alert.event_ids = (alert.event_ids + [occurrence.event_id])[-EVENT_IDS_KEPT:]
                    if reopened:
                        alert.status, alert.status_changed, alert.status_changed_by = \
                            AlertStatus.OPEN, timezone.now(), None
                    alert.save()
                    if reopened:
                        _announce(alert, "came back")
                        _remediate(alert, occurrence)
                    _outputs(alert, "came back" if reopened else "hit")
                    return alert
                team, owner = occurrence.who()
                alert = Alert.objects.create(
                    signature=signature, fingerprint=fp, severity=signature.severity,
                    title=f"{signature.title}: {occurrence.what} by {view.identity or 'someone'}"[:300],
                    account_id=view.account_id, region=view.region, identity=view.identity[:300],
                    resource_type=occurrence.resource_type, resource_id=occurrence.resource_id, team=team,
                    owner=owner[:200], event_ids=[occurrence.event_id], first_seen=when, last_seen=when)
            _announce(alert, "new")
            _remediate(alert, occurrence)
            _outputs(alert, "new")
            return alert
        except IntegrityError:
            continue
    raise RuntimeError(f"could not record the alert {fp}")


def _who(event: CloudTrailEvent, view: EventView) -> tuple[Team | None, str]:
    """The team and owner: the account's team and the person, else the principal's team and owner tags."""
    principal = principal_for(event.account_id, event.identity_arn, event.user_name)
    team = event.team
    if team is None and principal is not None and principal.team:
        team = Team.objects.filter(slug=principal.team).first()
    owner = (principal.owner_email if principal is not None and principal.owner_email else "") or (
        event.person.get_username() if event.person_id else view.identity)
    return team, owner


def _remediate(alert: Alert, occurrence: Occurrence) -> None:
    """The chain's remediation steps (any step that is not an output), when the alert is new or comes back:
    enforced action runs on what the event touched, carried out by the remediation worker once committed."""
    steps = [s["action"] for s in alert.signature.actions if s.get("action") not in OUTPUT_ACTIONS]
    if not steps:
        return
    signature = alert.signature
    alert_actions_start(
        source=f"signature:{signature.name}:{signature.version}", steps=steps, account_id=alert.account_id,
        region=alert.region, resource_type=alert.resource_type, resource_id=alert.resource_id,
        event_id=occurrence.event_id, trigger=f"alert:{alert.pk}:{occurrence.event_id}",
        reason=f"Signature {signature.name}: {alert.title}")


def _outputs(alert: Alert, why: str) -> None:
    outputs_after(alert, why)


def _announce(alert: Alert, why: str) -> None:
    """Routed by team: the team's people and the admins, in the app (and by email where they have one)."""
    people = {u.pk: u for u in get_user_model().objects.filter(groups__name="Admin")}
    if alert.team_id:
        people |= {u.pk: u for u in alert.team.members.all()}
    notify(subject=f"[{alert.severity}] {alert.title} ({why})"[:200],
           body=f"{alert.signature.title}\nAccount {alert.account_id} {alert.region}; {alert.resource_id}\n"
                f"Seen {alert.count} time(s) since {alert.first_seen:%Y-%m-%d %H:%M} UTC",
           url=alert.get_absolute_url(), level="danger" if alert.severity in (Severity.HIGH, Severity.CRITICAL)
           else "warning", users=list(people.values()))


# --- alerts people work on ---

def alert_status_set(*, alert: Alert, status: str, user: Any) -> Alert:
    if status not in AlertStatus.values:
        raise ValidationError({"status": [f"Give one of {', '.join(AlertStatus.values)}."]})
    if alert.status == status:
        return alert
    Alert.objects.filter(pk=alert.pk).update(status=status, status_changed=timezone.now(), status_changed_by=user)
    alert.refresh_from_db()
    alert.save()  # a history row naming who changed it
    _outputs(alert, "status")
    return alert


# --- signatures ---

SIGNATURE_FIELDS = ("name", "title", "description", "pattern", "conditions", "severity", "tags", "actions",
                    "dedup_minutes", "tests", "status")


def signature_check(values: dict[str, Any]) -> None:
    """ValidationError naming each field that is wrong."""
    errors: dict[str, list[str]] = {}
    name = values.get("name") or ""
    if not name or slugify(name) != name:
        errors["name"] = ["Use lower-case letters, digits and dashes, like mfa-disabled."]
    if not values.get("title"):
        errors["title"] = ["Give a title."]
    try:
        conditions_check(values.get("conditions") or {})
    except ValueError as exc:
        errors["conditions"] = [str(exc)]
    try:
        compile_signature(name or "x", values.get("pattern"), {})
    except ValueError as exc:
        errors["pattern"] = [str(exc)]
    if values.get("severity") not in Severity.values:
        errors["severity"] = [f"Give one of {', '.join(Severity.values)}."]
    tags = values.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors["tags"] = ['Give a list of strings, like ["attack:T1562.008", "hipaa:164.312(b)"].']
    actions = values.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, dict) and "action" in a for a in actions):
        errors["actions"] = ['Give a list like [{"action": "alert"}, {"action": "notify"}].']
    else:
        for i, step in enumerate(actions):
            if step["action"] == "ticket" and step.get("system", "jira") not in ("jira", "github"):
                errors["actions"] = [f"actions[{i}].system: give jira or github"]
            if step["action"] in OUTPUT_ACTIONS:
                continue
            try:
                action_by_name(step["action"])
            except KeyError:
                errors["actions"] = [f"actions[{i}]: no action {step['action']!r} (alert, notify or a remediation "
                                     f"action)"]
    tests = values.get("tests")
    if not isinstance(tests, dict) or set(tests) - {"positive", "negative"} or not all(
            isinstance(v, list) for v in tests.values()):
        errors["tests"] = ['Give {"positive": [event, ...], "negative": [event, ...]}.']
    if values.get("status") not in Signature.Status.values:
        errors["status"] = [f"Give one of {', '.join(Signature.Status.values)}."]
    minutes = values.get("dedup_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        errors["dedup_minutes"] = ["Give a whole number of minutes, at least 1."]
    if errors:
        raise ValidationError(errors)


def signature_save(*, signature: Signature | None = None, user: Any = None, **values: Any) -> Signature:
    """Create or change a signature; a change makes a new version. A new signature starts in STAGING unless
    told otherwise; moving to STAGING starts its staging statistics afresh."""
    unknown = set(values) - set(SIGNATURE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Not a signature field."]})
    defaults = {"name": "", "title": "", "description": "", "pattern": None, "conditions": {},
                "severity": Severity.MEDIUM, "tags": [], "actions": [{"action": "alert"}], "dedup_minutes": 60,
                "tests": {}, "status": Signature.Status.STAGING}
    merged = {f: values[f] if f in values else (getattr(signature, f) if signature else defaults[f])
              for f in SIGNATURE_FIELDS}
    merged["conditions"] = merged["conditions"] or {}  # null is "no conditions", as signature_check reads it
    signature_check(merged)
    with transaction.atomic():
        clash = Signature.objects.filter(name=merged["name"])
        if signature is not None:
            clash = clash.exclude(pk=signature.pk)
        if clash.exists():
            raise ValidationError({"name": [f"A signature named {merged['name']} exists already."]})
        if signature is None:
            return Signature.objects.create(**merged, updated_by=user, staged_since=timezone.now()
                                            if merged["status"] == Signature.Status.STAGING else None)
        signature = Signature.objects.select_for_update().get(pk=signature.pk)
        changed = {f: v for f, v in merged.items() if getattr(signature, f) != v}
        if not changed:
            return signature
        if changed.get("status") == Signature.Status.STAGING:
            signature.staged_since = timezone.now()
        for field, value in changed.items():
            setattr(signature, field, value)
        signature.version += 1
        signature.updated_by = user
        signature.save()
        return signature


def signature_tests_run(signature: Signature | dict[str, Any]) -> list[dict[str, Any]]:
    """Its positive and negative examples: each with passed and why (ValueError if it does not compile)."""
    data = signature if isinstance(signature, dict) else {f: getattr(signature, f) for f in SIGNATURE_FIELDS}
    compiled = compile_signature(data.get("name") or "draft", data["pattern"], data.get("conditions") or {})
    return [r.__dict__ for r in run_examples(compiled, data.get("tests") or {})]


def staging_stats(signature: Signature) -> dict[str, Any]:
    """What the signature has hit since it was staged: counts, identities, per day."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    hits = signature.hits.filter(staged=True)
    if signature.staged_since:
        hits = hits.filter(created__gte=signature.staged_since)
    per_day = list(hits.annotate(day=TruncDate("time")).values("day").annotate(n=Count("id")).order_by("day"))
    return {"hits": hits.count(), "identities": hits.values("key").distinct().count(), "per_day": per_day,
            "examples": list(hits.values_list("event_id", flat=True)[:10])}


def signature_promote(*, signature: Signature, user: Any) -> Signature:
    """A staged signature goes live (its examples must pass first)."""
    if signature.status != Signature.Status.STAGING:
        raise ValidationError({"status": [f"{signature.name} is {signature.status}: only a staged signature is "
                                          f"promoted."]})
    failing = [r for r in signature_tests_run(signature) if not r["passed"]]
    if failing:
        raise ValidationError({"tests": [f"{len(failing)} example(s) fail: fix them before promoting."]})
    return signature_save(signature=signature, user=user, status=Signature.Status.ACTIVE)
