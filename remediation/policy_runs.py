"""Policy runs: policies turn non-compliant findings and matching CloudTrail events into action runs.

Each run is a row claimed by a conditional update (the same trigger twice is one run: a unique dedupe key), runs
as the account's portal role through the AWS boundary, and in dry_run records its plan without changing
anything. A blast-radius limit holds runs past `max_resources` an hour and alerts the admins. Every run goes on
the resource's timeline and notifies the admins and the resource's owner.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import handoffs
from audit.cloudtrail.patterns import as_event, compile_pattern
from audit.config.registry import collectors
from audit.models import CloudTrailEvent, ConfigResource, ConfigurationItem
from portal import queue
from portal.models import Account
from portal.notifications import notify
from remediation.actions import action_by_name
from remediation.models import (
    ActionRun,
    ActionStatus,
    Compliance,
    Finding,
    Policy,
    PolicyMode,
)

log = logging.getLogger(__name__)
CHAIN = "remediation.tasks.action_chain"  # takes the first run of a chain


def in_scope(scope: dict[str, Any] | None, account_id: str, tags: dict[str, str]) -> bool:
    """Whether a policy's scope ({"accounts": [...], "teams": [...], "tags": {k: v}}) covers the resource."""
    scope = scope or {}
    if scope.get("accounts") and account_id not in scope["accounts"]:
        return False
    if scope.get("teams"):
        account = Account.objects.filter(account_id=account_id).select_related("team").first()
        if account is None or account.team.slug not in scope["teams"]:
            return False
    return all(tags.get(k) == v for k, v in (scope.get("tags") or {}).items())


def _request(policy: Policy, *, account_id: str, region: str, resource_type: str, resource_id: str, reason: str,
             trigger: str, details: dict[str, Any] | None = None, finding: Finding | None = None,
             event_id: str = "", user: Any = None) -> list[ActionRun]:
    """The chain's runs for one trigger (once: a second request with the same trigger finds them)."""
    recent = ActionRun.objects.filter(policy=policy, step=0, created__gte=timezone.now() - timedelta(hours=1)).exclude(
        status__in=[ActionStatus.HELD, ActionStatus.DRY_RUN]).count()
    held = policy.mode == PolicyMode.ENFORCE and recent >= policy.max_resources
    runs = []
    try:
        with transaction.atomic():
            for step, link in enumerate(policy.actions):
                target = {"resource_type": resource_type, "resource_id": resource_id, "account_id": account_id,
                          "region": region, "details": {**(link.get("details") or {}), **(details or {})}}
                runs.append(ActionRun.objects.create(
                    policy=policy, policy_version=policy.version, mode=policy.mode, action=link["action"], step=step,
                    account_id=account_id, region=region, resource_type=resource_type, resource_id=resource_id,
                    target=target, reason=reason[:500], finding=finding, event_id=event_id, requested_by=user,
                    dedupe_key=f"{policy.pk}:{policy.version}:{trigger}:{step}"[:300],
                    status=ActionStatus.HELD if held else ActionStatus.PENDING))
    except IntegrityError:
        return []  # this trigger has its runs already
    if held:
        admins = get_user_model().objects.filter(groups__name="Admin")
        notify(subject=f"Remediation held: {policy.name} reached {policy.max_resources} resources this hour",
               body=f"{resource_type} {resource_id} in {account_id} was not changed: {reason}", level="warning",
               users=list(admins))
    return runs


def findings_remediate(finding_ids: list[int]) -> list[int]:
    """Runs for findings that are NON_COMPLIANT (and not excepted) under a policy of their rule."""
    run_ids: list[int] = []
    for finding in Finding.objects.filter(pk__in=finding_ids, status=Compliance.NON_COMPLIANT).select_related(
            "rule", "config_resource", "excepted_by"):
        if finding.excepted:
            continue
        tags = finding.config_resource.tags if finding.config_resource else {}
        for policy in Policy.objects.filter(rule=finding.rule).exclude(mode=PolicyMode.OFF):
            if in_scope(policy.scope, finding.account_id, tags):
                runs = _request(policy, account_id=finding.account_id, region=finding.region,
                                resource_type=finding.resource_type, resource_id=finding.resource_id,
                                reason=f"{finding.rule.name}: {finding.annotation}",
                                trigger=f"finding:{finding.pk}:{finding.since.isoformat()}", finding=finding)
                run_ids += [r.pk for r in runs if r.step == 0 and r.status == ActionStatus.PENDING]
    return run_ids


FLOW_LOG, VPC = "AWS::EC2::FlowLog", "AWS::EC2::VPC"


def _deleted_flow_log(account_id: str, flow_log_id: str) -> tuple[str, dict[str, Any]] | None:
    """The VPC a (deleted) flow log covered and the details to recreate it as it was, from its last record."""
    item = ConfigurationItem.objects.filter(
        resource__account_id=account_id, resource__resource_type=FLOW_LOG, resource__resource_id=flow_log_id,
    ).exclude(configuration={}).order_by("-capture_time", "-state_id").first()
    if item is None or not str(item.configuration.get("resourceId", "")).startswith("vpc-"):
        return None
    c = item.configuration
    details = {"traffic_type": c.get("trafficType") or "ALL", "log_destination_type": c.get("logDestinationType") or ""}
    for key, name in (("logDestination", "log_destination"), ("deliverLogsPermissionArn", "deliver_logs_permission_arn"),
                      ("logGroupName", "log_group_name")):
        if c.get(key):
            details[name] = c[key]
    return c["resourceId"], {k: v for k, v in details.items() if v}


def event_targets(event: CloudTrailEvent, action_types: set[str]) -> list[tuple[str, str, str, dict]]:
    """(type, region, id, details) of the resources the event touched that the policy's actions handle (a
    deleted flow log stands for its VPC, with the details to recreate it as it was)."""
    known = collectors()
    out = []
    for touched in event.resources.all():
        if touched.resource_type == FLOW_LOG and VPC in action_types:
            found = _deleted_flow_log(event.account_id, touched.resource_id)
            if found is not None:
                out.append((VPC, event.region, found[0], found[1]))
            continue
        if action_types and touched.resource_type not in action_types:
            continue
        region = "global" if touched.resource_type in known and known[touched.resource_type].global_ \
            else event.region
        details = {}
        if touched.resource_type == "AWS::Config::ConfigurationRecorder":
            details["recorder_name"] = touched.resource_id  # the name the event gave, never assumed
        out.append((touched.resource_type, region, touched.resource_id, details))
    return out


def events_remediate(event_ids: list[str]) -> list[int]:
    """Runs for stored events that match an event rule's pattern."""
    policies = []
    for policy in Policy.objects.exclude(event_pattern=None).exclude(mode=PolicyMode.OFF):
        try:
            types = set()
            for link in policy.actions:
                types |= set(action_by_name(link["action"]).resource_types)
            policies.append((policy, compile_pattern(policy.event_pattern), types))
        except (ValueError, KeyError) as exc:
            log.warning("policy %s cannot run: %s", policy.name, exc)
    run_ids: list[int] = []
    if not policies:
        return run_ids
    for event in CloudTrailEvent.objects.filter(event_id__in=event_ids).prefetch_related("resources"):
        for policy, pattern, types in policies:
            if not pattern.matches(_enveloped(event.raw)):
                continue
            for resource_type, region, resource_id, details in event_targets(event, types):
                tags = dict(ConfigResource.objects.filter(
                    account_id=event.account_id, region=region, resource_type=resource_type,
                    resource_id=resource_id).values_list(
                    "tags", flat=True).first() or {})
                if not in_scope(policy.scope, event.account_id, tags):
                    continue
                runs = _request(policy, account_id=event.account_id, region=region, resource_type=resource_type,
                                resource_id=resource_id, details=details, event_id=event.event_id,
                                reason=f"{event.event_name} by {event.user_name or event.identity_arn}",
                                trigger=f"event:{event.event_id}:{resource_id}")
                run_ids += [r.pk for r in runs if r.step == 0 and r.status == ActionStatus.PENDING]
    return run_ids


def _enveloped(raw: dict) -> dict:
    return as_event(raw)


# The action that puts right what a managed rule flags (the Fix page offers it first).
RULE_FIXES = {
    "restricted-ssh": "revoke_world_ingress", "restricted-common-ports": "revoke_world_ingress",
    "vpc-sg-open-only-to-authorized-ports": "revoke_world_ingress", "required-tags": "add_required_tags",
    "s3-bucket-public-read-prohibited": "block_s3_public_access",
    "s3-bucket-level-public-access-prohibited": "block_s3_public_access",
    "s3-bucket-server-side-encryption-enabled": "enable_bucket_encryption",
    "vpc-flow-logs-enabled": "enable_vpc_flow_logs", "config-recorder-recording": "start_config_recorder",
    "desired-instance-type": "stop_instance", "approved-amis-by-id": "stop_instance",
}


def fix_request(*, finding: Finding, action_name: str, user: Any) -> ActionRun:
    """An admin's one-click fix of a finding: one enforce run, by hand (a second click on the same finding and
    action is the same run)."""
    action = action_by_name(action_name)
    if finding.resource_type not in action.resource_types and action.resource_types:
        raise ValueError(f"{action_name} does not act on {finding.resource_type}")
    details = {"ports": [22]} if finding.rule.source == "restricted-ssh" else {}
    key = f"manual:{finding.pk}:{finding.since.isoformat()}:{action_name}:0"
    run, _ = ActionRun.objects.get_or_create(dedupe_key=key[:300], defaults={
        "policy": None, "policy_version": 0, "mode": PolicyMode.ENFORCE, "action": action_name, "step": 0,
        "account_id": finding.account_id, "region": finding.region, "resource_type": finding.resource_type,
        "resource_id": finding.resource_id, "finding": finding, "requested_by": user,
        "reason": f"{finding.rule.name}: {finding.annotation} (fixed by {user.get_username()})"[:500],
        "target": {"resource_type": finding.resource_type, "resource_id": finding.resource_id,
                   "account_id": finding.account_id, "region": finding.region, "details": details}})
    return run


def alert_actions_request(*, source: str, steps: list[str], account_id: str, region: str, resource_type: str,
                          resource_id: str, event_id: str, trigger: str, reason: str) -> list[int]:
    """Runs for the remediation steps of a signature's chain (its alert new or back): on the resources the event
    touched that the steps handle (or the alert's resource for a flow-log detection), enforced, once per trigger
    (the same trigger again finds its runs). The first step's run ids, for `action_chain`."""
    types: set[str] = set()
    for name in steps:
        types |= set(action_by_name(name).resource_types)
    event = CloudTrailEvent.objects.filter(event_id=event_id).prefetch_related("resources").first()
    if event is not None:
        targets = event_targets(event, types)
    else:
        targets = [(resource_type, region, resource_id, {})] if resource_id and (
            not types or resource_type in types) else []
    first_ids: list[int] = []
    for target_type, target_region, target_id, details in targets:
        try:
            with transaction.atomic():
                runs = [ActionRun.objects.create(
                    policy=None, policy_version=0, mode=PolicyMode.ENFORCE, action=name, step=step,
                    account_id=account_id, region=target_region, resource_type=target_type, resource_id=target_id,
                    target={"resource_type": target_type, "resource_id": target_id, "account_id": account_id,
                            "region": target_region, "details": details},
                    reason=reason[:500], event_id=event_id if event is not None else "",
                    dedupe_key=f"{source}:{trigger}:{target_id}:{step}"[:300]) for step, name in enumerate(steps)]
        except IntegrityError:
            continue  # this trigger has its runs already
        first_ids.append(runs[0].pk)
    return first_ids


# --- starting the chains: remediation enqueues its own runs ---

def chains_send(run_ids: list[int]) -> int:
    """A worker's next step (outside any transaction): each chain's first run sent now."""
    for run_id in run_ids:
        queue.send(CHAIN, run_id)
    return len(run_ids)


def findings_act(finding_ids: list[int]) -> int:
    """New violations: their policies' runs, started."""
    return chains_send(findings_remediate(finding_ids))


def events_handoff_take(handoff_id: int) -> int:
    """New writes handed on by ingest (audit.handoffs), against the event rules; the runs started."""
    handoff = handoffs.handoff_claim(handoff_id)
    if handoff is None:
        return 0
    run_ids = events_remediate(list(handoff.event_ids))
    handoffs.handoff_done(handoff)
    return chains_send(run_ids)


def fix_start(*, finding: Finding, action_name: str, user: Any) -> ActionRun:
    """An admin's one-click fix, carried out once the transaction commits."""
    run = fix_request(finding=finding, action_name=action_name, user=user)
    queue.enqueue(CHAIN, run.pk)
    return run


def alert_actions_start(*, source: str, steps: list[str], account_id: str, region: str, resource_type: str,
                        resource_id: str, event_id: str, trigger: str, reason: str) -> list[int]:
    """A signature's remediation steps (see `alert_actions_request`), each chain started once the transaction
    commits: what triage asks of remediation."""
    first_ids = alert_actions_request(source=source, steps=steps, account_id=account_id, region=region,
                                      resource_type=resource_type, resource_id=resource_id, event_id=event_id,
                                      trigger=trigger, reason=reason)
    queue.enqueue_each(CHAIN, first_ids)
    return first_ids
