"""The replay behind a dry run (see remediation.dryrun): each policy's triggers in the window, the plan of each
action from the configuration recorded at that moment, the differences from what the active versions did, and
the compliance it would have produced; the signatures' would-be alerts (triage.signature_replay)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Subquery

from audit.cloudtrail.patterns import as_event, compile_pattern
from audit.models import CloudTrailEvent, ConfigResource, ConfigurationItem, ItemStatus
from portal.models import Account
from remediation import dryrun_signatures
from remediation.actions import action_by_name
from remediation.actions.base import Target
from remediation.compliance import _params, _Related, account_context, exception_matching, implementation
from remediation.models import (
    ActionRun,
    Compliance,
    DryRun,
    Finding,
    FindingChange,
    Policy,
    Rule,
    RuleException,
)
from remediation.policy_runs import RULE_FIXES, event_targets, in_scope
from remediation.rules.base import ResourceView

MAX_ACTIONS = 5000  # a report lists at most this many actions (and says it stopped there)
PROGRESS_EVERY = 500

# What a report says of each action it lists.
WOULD_RUN = "WOULD_RUN"  # the calls would have been made
NOTHING_TO_DO = "NOTHING_TO_DO"  # the resource was already as the action would leave it
BLOCKED = "BLOCKED"  # the action could not have run (a detail missing, nothing recorded)
HELD = "HELD"  # the blast-radius limit would have held it
NOT_REACHED = "NOT_REACHED"  # an earlier step of the chain would not have run
OUTCOMES = (WOULD_RUN, NOTHING_TO_DO, BLOCKED, HELD, NOT_REACHED)


def _doc(resource: ConfigResource, item: ConfigurationItem | None, when: datetime) -> dict[str, Any] | None:
    """The recorded state an action plans from (see Action.plan_recorded); None when nothing was recorded."""
    if item is None or item.status == ItemStatus.DELETED:
        return None
    doc = {"configuration": item.configuration, "supplementary": item.supplementary, "tags": item.tags,
           "relationships": item.relationships, "arn": resource.arn}
    if resource.resource_type == "AWS::EC2::VPC":
        doc["related"] = _flow_logs_at(resource, when)
    return doc


def _item_after(resource: ConfigResource, event: CloudTrailEvent) -> ConfigurationItem | None:
    """The state the event left: the first item captured after it. eventTime has whole seconds, so an item of
    that same second may be from before the call: the first one after the event was ingested (the recorder
    snapshots what an event touched once it is stored), or a second after its time, whichever comes first;
    else the newest item before that (the event changed nothing the recorder saw)."""
    after = min(event.ingested, event.event_time + timedelta(seconds=1))
    return resource.items.filter(capture_time__gte=after).order_by("capture_time", "state_id").first() or \
        resource.items.filter(capture_time__lt=after).order_by("-capture_time", "-state_id").first()


def _flow_logs_at(vpc: ConfigResource, when: datetime) -> list[dict[str, Any]]:
    latest = ConfigurationItem.objects.filter(resource=OuterRef("pk"), capture_time__lte=when).order_by(
        "-capture_time", "-state_id")
    logs = ConfigResource.objects.filter(account_id=vpc.account_id, region=vpc.region,
                                         resource_type="AWS::EC2::FlowLog").annotate(
        status_at=Subquery(latest.values("status")[:1]), configuration_at=Subquery(latest.values("configuration")[:1]))
    out = []
    for log_resource in logs:
        configuration = log_resource.configuration_at
        if isinstance(configuration, str):  # SQLite hands a subquery's JSON back as text
            configuration = json.loads(configuration)
        if log_resource.status_at and log_resource.status_at != ItemStatus.DELETED and \
                (configuration or {}).get("resourceId") == vpc.resource_id:
            out.append({"resource_type": "AWS::EC2::FlowLog", "resource_id": log_resource.resource_id,
                        "configuration": configuration, "tags": {}})
    return out


class Replay:
    """One dry run's replay: `run()` answers the report."""

    def __init__(self, dry_run: DryRun) -> None:
        self.dry_run = dry_run
        self.since, self.until = dry_run.since, dry_run.until
        self.actions: list[dict[str, Any]] = []
        self.truncated = False
        self.progress = {"events": 0, "items": 0, "actions": 0}
        self.chains = 0
        self.fired: dict[int, list[datetime]] = defaultdict(list)  # policy id -> trigger times not held
        self.summary: dict[int, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.accounts = {a.account_id: a for a in Account.objects.select_related("team")}
        self.exceptions = list(RuleException.objects.filter(expires__gt=self.since, created__lte=self.until))

    def run(self) -> dict[str, Any]:
        snapshots = self.dry_run.snapshot
        for snap in snapshots:
            self.summary[snap["id"]] = {"policy": snap["name"], "version": snap["version"], "mode": snap["mode"],
                                        "triggers": 0, **{outcome: 0 for outcome in OUTCOMES}, "notes": []}
        event_policies = [s for s in snapshots if s.get("event_pattern")]
        if event_policies:
            self._events(event_policies)
        for snap in snapshots:
            if snap.get("rule"):
                self._rule(snap)
        signatures = self._signatures() if self.dry_run.signatures else []
        self._save_progress()
        for row in self.summary.values():
            row["current_version"] = Policy.objects.filter(name=row["policy"]).values_list(
                "version", flat=True).first()
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "actions": self.actions,
                "truncated": self.truncated, "scanned": dict(self.progress),
                "policies": list(self.summary.values()), "differences": self._differences(),
                "compliance": self._compliance(), "signatures": signatures}

    def _save_progress(self) -> None:
        self.progress["actions"] = len(self.actions)
        DryRun.objects.filter(pk=self.dry_run.pk).update(progress=dict(self.progress))

    def _tick(self, kind: str) -> None:
        self.progress[kind] += 1
        if self.progress[kind] % PROGRESS_EVERY == 0:
            self._save_progress()

    # --- signatures ---

    def _signatures(self) -> list[dict[str, Any]]:
        def seen(events: int) -> None:
            self.progress["signature_events"] = events
            self._save_progress()

        plugin = dryrun_signatures.registered()
        if plugin is None:  # stored by a portal that had triage: nothing here can replay them
            return []
        return plugin.replay(self.dry_run.signatures, since=self.since, until=self.until, progress=seen)

    # --- event rules ---

    def _events(self, snapshots: list[dict[str, Any]]) -> None:
        compiled = []
        for snap in snapshots:
            try:
                types: set[str] = set()
                for link in snap["actions"]:
                    types |= set(action_by_name(link["action"]).resource_types)
                compiled.append((snap, compile_pattern(snap["event_pattern"]), types))
            except (ValueError, KeyError) as exc:
                self.summary[snap["id"]]["notes"].append(f"Cannot run: {exc}")
        events = CloudTrailEvent.objects.filter(event_time__gte=self.since, event_time__lte=self.until).order_by(
            "event_time", "id").prefetch_related("resources")
        for event in events.iterator(chunk_size=1000):
            self._tick("events")
            enveloped = None
            for snap, pattern, types in compiled:
                enveloped = enveloped or as_event(event.raw)
                if not pattern.matches(enveloped):
                    continue
                for resource_type, region, resource_id, details in event_targets(event, types):
                    resource = ConfigResource.objects.filter(account_id=event.account_id, region=region,
                                                             resource_type=resource_type, resource_id=resource_id).first()
                    item = None if resource is None else _item_after(resource, event)
                    tags = item.tags if item is not None else {}
                    if not in_scope(snap["scope"], event.account_id, tags):
                        continue
                    trigger = {"kind": "event", "time": event.event_time.isoformat(), "event_id": event.event_id,
                               "event_name": event.event_name, "user": event.user_name or event.identity_arn}
                    reason = f"{event.event_name} by {event.user_name or event.identity_arn}"
                    self._chain(snap, trigger, reason, when=event.event_time, account_id=event.account_id,
                                region=region, resource_type=resource_type, resource_id=resource_id,
                                details=details, doc=_doc(resource, item, event.event_time) if resource else None)

    # --- rule policies ---

    def _rule(self, snap: dict[str, Any]) -> None:
        data = snap["rule"]
        rule = Rule(pk=data["id"], name=data["name"], kind=data["kind"], source=data["source"],
                    parameters=data["parameters"], definition=data["definition"])
        notes = self.summary[snap["id"]]["notes"]
        try:
            impl = implementation(rule)
            params = _params(rule, impl)
        except ValueError as exc:
            notes.append(f"The rule {rule.name} cannot run: {exc}")
            return
        if impl.periodic:
            notes.append(f"{rule.name} is an account-level rule evaluated on a schedule: the dry run does not "
                         f"replay it")
            return
        items = ConfigurationItem.objects.filter(capture_time__gt=self.since, capture_time__lte=self.until)
        if impl.resource_types:
            items = items.filter(resource__resource_type__in=list(impl.resource_types))
        contexts: dict[str, dict[str, Any]] = {}
        current: ConfigResource | None = None
        status = ""
        for item in items.select_related("resource").order_by("resource_id", "capture_time", "state_id").iterator(
                chunk_size=1000):
            self._tick("items")
            resource = item.resource
            if current is None or resource.pk != current.pk:
                current = resource
                start = resource.items.filter(capture_time__lte=self.since).order_by(
                    "-capture_time", "-state_id").first()
                status = self._verdict(impl, params, resource, start, contexts, ResourceView, account_context)[0]
            before = status
            status, annotation = self._verdict(impl, params, resource, item, contexts, ResourceView, account_context)
            if status != Compliance.NON_COMPLIANT or before == Compliance.NON_COMPLIANT:
                continue
            if self._excepted(rule.pk, resource, item) or not in_scope(snap["scope"], resource.account_id,
                                                                        item.tags):
                continue
            trigger = {"kind": "finding", "time": item.capture_time.isoformat(), "rule": rule.name,
                       "annotation": annotation, "state_id": item.state_id}
            self._chain(snap, trigger, f"{rule.name}: {annotation}", when=item.capture_time,
                        account_id=resource.account_id, region=resource.region, resource_type=resource.resource_type,
                        resource_id=resource.resource_id, details={},
                        doc=_doc(resource, item, item.capture_time))

    @staticmethod
    def _verdict(impl, params, resource, item, contexts, view_class, account_context) -> tuple[str, str]:
        if item is None or item.status == ItemStatus.DELETED:
            return Compliance.NOT_APPLICABLE, ""
        if resource.account_id not in contexts:
            contexts[resource.account_id] = account_context(resource.account_id)
        related = _flow_logs_at(resource, item.capture_time) if resource.resource_type == "AWS::EC2::VPC" \
            else _Related(resource)
        view = view_class(resource.resource_type, resource.resource_id, resource.account_id, resource.region,
                          item.configuration, item.supplementary, item.tags, item.relationships, related,
                          contexts[resource.account_id])
        verdict = impl.evaluate(view, params)
        return verdict.status, verdict.annotation

    def _excepted(self, rule_id: int, resource: ConfigResource, item: ConfigurationItem) -> bool:
        when = item.capture_time
        active = [e for e in self.exceptions if e.created <= when < e.expires]
        account = self.accounts.get(resource.account_id)
        return exception_matching(active, rule_id=rule_id, account_id=resource.account_id,
                                  team_slug=account.team.slug if account else None,
                                  resource_id=resource.resource_id, tags=item.tags) is not None

    # --- one trigger: the chain's plans ---

    def _held(self, snap: dict[str, Any], when: datetime) -> bool:
        fired = self.fired[snap["id"]]
        recent = sum(1 for t in fired if when - timedelta(hours=1) < t <= when)
        if recent >= snap["max_resources"]:
            return True
        fired.append(when)
        return False

    def _chain(self, snap: dict[str, Any], trigger: dict[str, Any], reason: str, *, when: datetime, account_id: str,
               region: str, resource_type: str, resource_id: str, details: dict[str, Any],
               doc: dict[str, Any] | None) -> None:
        if len(self.actions) >= MAX_ACTIONS:
            self.truncated = True
            return
        summary = self.summary[snap["id"]]
        summary["triggers"] += 1
        held = self._held(snap, when)
        chain = self.chains
        self.chains += 1
        going = not held
        for step, link in enumerate(snap["actions"]):
            target = Target(resource_type, resource_id, account_id, region,
                            {**(link.get("details") or {}), **details})
            plan = action_by_name(link["action"]).preview_recorded(target, doc)
            if held:
                outcome = HELD
            elif not going:
                outcome = NOT_REACHED
            elif plan.blocked:
                outcome = BLOCKED
            elif plan.noop:
                outcome = NOTHING_TO_DO
            else:
                outcome = WOULD_RUN
            going = going and outcome == WOULD_RUN
            summary[outcome] += 1
            self.actions.append({
                "chain": chain, "step": step, "policy": snap["name"], "policy_id": snap["id"],
                "policy_version": snap["version"], "action": link["action"], "target": {"resource_type": resource_type, "resource_id": resource_id, "account_id": account_id,
                     "region": region, "details": dict(target.details)},
                "api_call": plan.api_call, "parameters": plan.parameters, "expected_change": plan.expected_change,
                "blocked": plan.blocked, "outcome": outcome, "trigger": trigger, "reason": reason[:500],
                "plan": plan.as_dict()})

    # --- what the active versions did, and the compliance it would make ---

    def _differences(self) -> dict[str, Any]:
        ids = [s["id"] for s in self.dry_run.snapshot]
        names = {s["id"]: s["name"] for s in self.dry_run.snapshot}
        done = ActionRun.objects.filter(policy_id__in=ids, created__gte=self.since, created__lte=self.until,
                                        dry_run=None).order_by("created")
        active: dict[tuple, dict[str, Any]] = {}
        for run in done:
            active.setdefault((run.policy_id, run.step, run.action, run.resource_id), {
                "policy": names.get(run.policy_id, ""), "policy_version": run.policy_version, "mode": run.mode,
                "step": run.step, "action": run.action, "resource_id": run.resource_id, "status": run.status,
                "time": run.created.isoformat(), "run": run.pk})
        planned = {(a["policy_id"], a["step"], a["action"], a["target"]["resource_id"]): a for a in self.actions
                   if a["outcome"] == WOULD_RUN}
        versions: dict[str, list[int]] = defaultdict(list)
        for row in active.values():
            if row["policy_version"] not in versions[row["policy"]]:
                versions[row["policy"]].append(row["policy_version"])
        return {
            "same": [{"policy": a["policy"], "action": a["action"], "resource_id": a["target"]["resource_id"],
                      "active": active[key]} for key, a in planned.items() if key in active],
            "only_dry_run": [{"policy": a["policy"], "action": a["action"], "resource_id": a["target"]["resource_id"],
                              "chain": a["chain"]} for key, a in planned.items() if key not in active],
            "only_active": [row for key, row in active.items() if key not in planned],
            "active_versions": dict(versions)}

    def _compliance(self) -> list[dict[str, Any]]:
        fixed: dict[str, set[str]] = defaultdict(set)  # action -> resource ids it would have fixed
        for a in self.actions:
            if a["outcome"] == WOULD_RUN and a["action"] != "notify":
                fixed[a["action"]].add(a["target"]["resource_id"])
        names = {s["rule"]["name"] for s in self.dry_run.snapshot if s.get("rule")}
        names |= {rule.name for rule in Rule.objects.filter(source__in=[s for s, action in RULE_FIXES.items()
                                                                        if action in fixed])}
        latest = FindingChange.objects.filter(finding=OuterRef("pk"), time__lte=self.until).order_by("-time", "-id")
        rows = []
        for rule in Rule.objects.filter(name__in=names).order_by("name"):
            statuses = Finding.objects.filter(rule=rule).annotate(at=Subquery(latest.values("after")[:1])).exclude(
                at=None).values_list("resource_id", "at")
            judged = [(rid, at) for rid, at in statuses if at in (Compliance.COMPLIANT, Compliance.NON_COMPLIANT)]
            violating = {rid for rid, at in judged if at == Compliance.NON_COMPLIANT}
            repaired = violating & fixed.get(RULE_FIXES.get(rule.source, ""), set())
            total = len(judged)
            rows.append({"rule": rule.name, "evaluated": total, "recorded_non_compliant": len(violating),
                         "would_be_non_compliant": len(violating - repaired), "fixed": sorted(repaired)[:50],
                         "recorded_share": round(100 * (total - len(violating)) / total, 1) if total else None,
                         "would_be_share": round(100 * (total - len(violating - repaired)) / total, 1)
                         if total else None})
        return rows
