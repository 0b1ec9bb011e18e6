"""EventBridge as AWS routes an event: a bus's rules, their state and pattern, and each target's permission.

Read from and written to moto's backends in-process (never through the API, so routing is never itself a
logged call). moto's own PutEvents is left as it is (audit's pattern oracle uses it); this is the path of the
events the sandbox emits itself (sandbox.eventbridge), where moto differs from AWS (moto-5.2.5-coverage §6):

- rule state: DISABLED matches nothing; ENABLED matches everything but the read-only CloudTrail management
  events (`is_read_only_management`); ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS matches those too. A rule
  with only a schedule matches no event.
- an SQS target gets the message only if the queue's policy lets events.amazonaws.com sqs:SendMessage to it
  (aws:SourceArn is the rule, aws:SourceAccount its account); a queue in another account needs the rule's
  target to name an execution role (RoleArn) that trusts events.amazonaws.com and may sqs:SendMessage there, and
  the queue's policy must allow that role (or its account).
- an SNS target likewise (sns:Publish, the topic's policy); the message is the event's JSON.
- an event-bus target in another account: its bus policy must allow events:PutEvents to the sender. Without
  RoleArn the sender is the rule's account (aws:PrincipalAccount); with RoleArn it is the role, which must trust
  events.amazonaws.com and may events:PutEvents on that bus, and aws:PrincipalOrgID is known: a bus that grants
  its organisation (Condition aws:PrincipalOrgID) receives only from targets with a RoleArn, as the PutPermission
  reference says. The event arrives unchanged (its `account` stays the source account) and is matched by that
  bus's rules; an event received from another bus is never routed to a further bus (AWS: "EventBridge can't
  route events received from a sender event bus to a third event bus"), which also makes loops impossible.
- Input (a constant), InputPath and InputTransformer shape what an SQS or SNS target receives.
Other target types (Lambda, Kinesis, log groups, ...) are not invoked: the outcome says so.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from moto.events.models import events_backends
from moto.events.utils import EventTemplateParser
from moto.organizations.models import organizations_backends

from sandbox import iam_policy

log = logging.getLogger(__name__)

SERVICE = "events.amazonaws.com"
API_CALL = "AWS API Call via CloudTrail"
ALL_MANAGEMENT = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
_READ_ONLY_PREFIXES = ("Get", "List", "Describe")
_READ_ONLY_EXCEPTIONS = frozenset({("sts.amazonaws.com", "GetFederationToken"),
                                   ("sts.amazonaws.com", "GetSessionToken")})
_ARN = re.compile(r"^arn:(?P<partition>aws[\w-]*):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>\d{12}|):"
                  r"(?P<resource>.+)$")


@dataclass(frozen=True)
class Outcome:
    """What became of one event at one target of one rule."""

    rule_arn: str
    target_arn: str
    delivered: bool
    reason: str = ""


def is_read_only_management(event: Mapping[str, Any]) -> bool:
    """A CloudTrail management event EventBridge gives only to rules that opt in: its name starts with Get, List
    or Describe (STS's GetFederationToken and GetSessionToken are changes despite their names)."""
    if event.get("detail-type") != API_CALL:
        return False
    detail = event.get("detail") or {}
    name, source = str(detail.get("eventName", "")), str(detail.get("eventSource", ""))
    return name.startswith(_READ_ONLY_PREFIXES) and (source, name) not in _READ_ONLY_EXCEPTIONS


def rule_takes(rule: Any, event: Mapping[str, Any]) -> bool:
    state = (rule.state or "ENABLED").upper()
    if state == "DISABLED" or not rule.event_pattern.dump():
        return False
    if state != ALL_MANAGEMENT and is_read_only_management(event):
        return False
    return bool(rule.event_pattern.matches_event(dict(event)))


def route(event: Mapping[str, Any], account_id: str, region: str, bus_name: str = "default", *,
          from_bus: bool = False) -> list[Outcome]:
    """Put `event` on a bus and deliver it to the targets of every rule that takes it."""
    per_account = dict.get(events_backends, account_id)
    backend = dict.get(per_account, region) if per_account is not None else None
    if backend is None:  # no EventBridge use in that account and region yet: only the default bus, no rules
        return []
    bus = backend.event_buses.get(bus_name)
    if bus is None:
        return []
    outcomes = []
    for rule in list(bus.rules.values()):
        try:
            if not rule_takes(rule, event):
                continue
        except Exception:
            log.exception("sandbox: cannot match rule %s", rule.arn)
            continue
        for target in list(rule.targets):
            try:
                outcome, further = _deliver(rule, target, event, from_bus), []
                if isinstance(outcome, tuple):
                    outcome, further = outcome
            except Exception as exc:
                log.exception("sandbox: target %s of rule %s failed", target.get("Arn"), rule.arn)
                outcome = Outcome(rule.arn, str(target.get("Arn")), False, f"{type(exc).__name__}: {exc}")
            if not outcome.delivered:
                log.info("sandbox: EventBridge did not deliver %s to %s: %s", event.get("id"), outcome.target_arn,
                         outcome.reason)
            outcomes.append(outcome)
            outcomes += further
    return outcomes


def _deliver(rule: Any, target: Mapping[str, Any], event: Mapping[str, Any],
             from_bus: bool) -> Outcome | tuple[Outcome, list[Outcome]]:
    """The outcome at this target (for a bus, also the outcomes of that bus's rules)."""
    arn = str(target.get("Arn", ""))
    parts = _ARN.match(arn)
    if parts is None:
        return Outcome(rule.arn, arn, False, "the target's ARN cannot be read")
    service, resource = parts["service"], parts["resource"]
    if service == "events" and resource.startswith("event-bus/"):
        return _to_bus(rule, target, event, parts, from_bus)
    if service == "sqs":
        return _to_queue(rule, target, event, parts)
    if service == "sns":
        return _to_topic(rule, target, event, parts)
    return Outcome(rule.arn, arn, False, f"the sandbox does not invoke {service} targets")


# --- targets ---

def _to_queue(rule: Any, target: Mapping[str, Any], event: Mapping[str, Any], parts: re.Match[str]) -> Outcome:
    from moto.sqs.models import sqs_backends

    arn, account, region, name = parts.group(0), parts["account"], parts["region"], parts["resource"]
    per_account = dict.get(sqs_backends, account)
    backend = dict.get(per_account, region) if per_account is not None else None
    queue = backend.queues.get(name) if backend is not None else None
    if queue is None:
        return Outcome(rule.arn, arn, False, "the queue does not exist")
    refused = _permitted(rule, target, "sqs:SendMessage", arn, account, _policy(queue.policy))
    if refused:
        return Outcome(rule.arn, arn, False, refused)
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    body = _body(target, event)
    options: dict[str, Any] = {}
    if name.endswith(".fifo"):
        if not group:
            return Outcome(rule.arn, arn, False, "a FIFO queue target needs SqsParameters.MessageGroupId")
        options = {"group_id": group, "deduplication_id": str(event.get("id"))}
    backend.send_message(queue_name=name, message_body=body, **options)
    return Outcome(rule.arn, arn, True)


def _to_topic(rule: Any, target: Mapping[str, Any], event: Mapping[str, Any], parts: re.Match[str]) -> Outcome:
    from moto.sns.models import sns_backends

    arn, account, region = parts.group(0), parts["account"], parts["region"]
    per_account = dict.get(sns_backends, account)
    backend = dict.get(per_account, region) if per_account is not None else None
    topic = backend.topics.get(arn) if backend is not None else None
    if topic is None:
        return Outcome(rule.arn, arn, False, "the topic does not exist")
    refused = _permitted(rule, target, "sns:Publish", arn, account, _policy(getattr(topic, "policy", None)))
    if refused:
        return Outcome(rule.arn, arn, False, refused)
    backend.publish(_body(target, event), arn=arn)
    return Outcome(rule.arn, arn, True)


def _to_bus(rule: Any, target: Mapping[str, Any], event: Mapping[str, Any], parts: re.Match[str],
            from_bus: bool) -> Outcome | tuple[Outcome, list[Outcome]]:
    arn, account, region = parts.group(0), parts["account"], parts["region"]
    name = parts["resource"][len("event-bus/"):]
    if from_bus:
        return Outcome(rule.arn, arn, False, "an event received from another event bus is not routed to a third")
    if name == "default":  # every account has its default bus in every region, used or not
        backend = events_backends[account][region]
    else:
        per_account = dict.get(events_backends, account)
        backend = dict.get(per_account, region) if per_account is not None else None
    bus = backend.event_buses.get(name) if backend is not None else None
    if bus is None:
        return Outcome(rule.arn, arn, False, "the event bus does not exist")
    if account != rule.account_id:
        role_arn = target.get("RoleArn")
        if role_arn:
            refused = _role_may(rule, str(role_arn), "events:PutEvents", arn)
            if refused:
                return Outcome(rule.arn, arn, False, refused)
            principal = _as_principal(str(role_arn), rule.account_id, with_org=True)
        else:
            principal = _as_principal(None, rule.account_id, with_org=False)
        if not resource_policy_allows(_policy(bus.policy), principal, "events:PutEvents", arn):
            return Outcome(rule.arn, arn, False, f"the policy of event bus {arn} does not allow events:PutEvents from "
                           f"{principal.arn}" + ("" if role_arn else " (a grant to an organisation needs a RoleArn)"))
    return Outcome(rule.arn, arn, True), route(event, account, region, name, from_bus=True)


# --- permission ---

def _permitted(rule: Any, target: Mapping[str, Any], action: str, resource: str, owner: str,
               policy: Mapping[str, Any]) -> str:
    """'' if EventBridge may perform `action` on the target for `rule`, else why not."""
    if owner == rule.account_id:
        service = _ServicePrincipal(SERVICE, rule.arn, rule.account_id)
        if resource_policy_allows(policy, service, action, resource):
            return ""
        return f"the resource policy of {resource} does not allow {SERVICE} to perform {action}"
    role_arn = target.get("RoleArn")
    if not role_arn:
        return f"{resource} is in another account: the target needs an execution role (RoleArn)"
    refused = _role_may(rule, str(role_arn), action, resource)
    if refused:
        return refused
    if not resource_policy_allows(policy, _as_principal(str(role_arn), rule.account_id, with_org=True), action,
                                  resource):
        return f"the resource policy of {resource} does not allow {role_arn} to perform {action}"
    return ""


def _role_may(rule: Any, role_arn: str, action: str, resource: str) -> str:
    """'' if EventBridge may assume `role_arn` (in the rule's account) and the role may `action` on `resource`."""
    match = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
    if match is None or match.group(1) != rule.account_id:
        return f"the execution role {role_arn} is not a role of the rule's account {rule.account_id}"
    iam = iam_policy.iam_backend(rule.account_id)
    role = next((r for r in list(iam.roles.values()) if r.name == match.group(2)), None) if iam else None
    if role is None:
        return f"the execution role {role_arn} does not exist"
    trust = iam_policy._document(role.assume_role_policy_document)
    service = _ServicePrincipal(SERVICE, rule.arn, rule.account_id)
    if not resource_policy_allows(trust, service, "sts:AssumeRole", role_arn, any_resource=True):
        return f"the trust policy of {role_arn} does not let {SERVICE} assume it"
    principal = iam_policy.role_principal(rule.account_id, match.group(2))
    decision = iam_policy.evaluate(principal, iam_policy.Request(action, (resource,)))
    if not decision.allowed:
        return f"{role_arn} is not authorized to perform {action} on {resource} {decision.reason(action)}"
    return ""


@dataclass(frozen=True)
class _ServicePrincipal:
    service: str
    source_arn: str
    source_account: str

    @property
    def arn(self) -> str:
        return self.service


@dataclass(frozen=True)
class _AwsPrincipal:
    arn: str
    account_id: str
    context: Mapping[str, tuple[str, ...]]


def _as_principal(role_arn: str | None, account_id: str, *, with_org: bool) -> _AwsPrincipal:
    context: dict[str, tuple[str, ...]] = {"aws:principalaccount": (account_id,)}
    if role_arn:
        context["aws:principalarn"] = (role_arn,)
    org = organization_of(account_id) if with_org else None
    if org:
        context["aws:principalorgid"] = (org,)
    return _AwsPrincipal(role_arn or f"arn:aws:iam::{account_id}:root", account_id, context)


def organization_of(account_id: str) -> str | None:
    owner = organizations_backends.master_accounts.get(account_id)
    management, partition = owner if owner else (account_id, "aws")
    per_account = dict.get(organizations_backends, management)
    backend = dict.get(per_account, partition) if per_account is not None else None
    org = getattr(backend, "org", None)
    return org.id if org is not None else None


def _policy(raw: Any) -> Mapping[str, Any]:
    if not raw:
        return {}
    try:
        return iam_policy._document(raw)
    except ValueError:
        return {}


def _names(element: Any, key: str) -> list[str]:
    if not isinstance(element, Mapping):
        return []
    value = element.get(key)
    return [str(v) for v in (value if isinstance(value, list) else [value])] if value is not None else []


def _principal_in(element: Any, principal: _ServicePrincipal | _AwsPrincipal) -> bool:
    if element == "*" or "*" in _names(element, "AWS"):
        return True
    if isinstance(principal, _ServicePrincipal):
        return principal.service in _names(element, "Service")
    for name in _names(element, "AWS"):
        if name == principal.arn or name == principal.account_id or iam_policy.glob_match(
                name, f"arn:aws:iam::{principal.account_id}:root"):
            return True
    return False


def resource_policy_allows(policy: Mapping[str, Any], principal: _ServicePrincipal | _AwsPrincipal, action: str,
                           resource: str, *, any_resource: bool = False) -> bool:
    """A resource policy (or a trust policy, `any_resource`) allows `principal` to `action` `resource`: an Allow
    statement applies and no Deny does (conditions over the keys the sandbox fills in, as iam_policy does)."""
    if isinstance(principal, _ServicePrincipal):
        context: Mapping[str, Sequence[str]] = {"aws:sourcearn": (principal.source_arn,),
                                                "aws:sourceaccount": (principal.source_account,)}
    else:
        context = principal.context
    allowed = False
    for statement in iam_policy._statements(policy):
        if "NotPrincipal" in statement or not _principal_in(statement.get("Principal"), principal):
            continue
        if "NotAction" in statement:
            if iam_policy.action_matches(iam_policy._as_list(statement["NotAction"]), action):
                continue
        elif not iam_policy.action_matches(iam_policy._as_list(statement.get("Action")), action):
            continue
        if not any_resource:
            patterns = iam_policy._as_list(statement.get("Resource", "*"))
            if not any(iam_policy.glob_match(str(p), resource) for p in patterns):
                continue
        if not iam_policy.conditions_hold(statement.get("Condition"), context).holds:
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


# --- what a target receives ---

def _body(target: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        found = parse(str(target["InputPath"])).find(dict(event))
        value = found[0].value if found else None
        return json.dumps(value, default=str)
    transformer = target.get("InputTransformer")
    if transformer:
        shaped = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                           input_paths_map=transformer.get("InputPathsMap", {}), event=dict(event))
        return shaped if isinstance(shaped, str) else json.dumps(shaped)
    return json.dumps(event, default=str)
