"""What a remediation action is: a small class with preview, apply and verify. Pure Python: no Django, no boto3.

An action works on one ``Target`` (a resource of an account and region, with ``details`` from the event or the
policy: the recorder's name, the offending ports, the tags to add, the flow log destination). ``preview`` reads
the resource through ``clients`` and answers a ``Plan``: the exact AWS calls it would make, their parameters as
they will be sent, one sentence on what changes, and whether there is nothing to do. ``apply`` takes a plan,
reads the resource again and goes ahead only when that plan is still what the resource needs; it makes the
calls, then re-reads the resource with the recorder's collectors (``verify``) and reports success only when it
sees the fix. It never raises for an AWS error: the ``Outcome`` is FAILED with AWS's error code and message.
``preview_recorded`` answers the plan from a recorded configuration item instead of a live read (a dry run
against the past): the same calls the live preview makes for the same state, with no AWS call.

Clients come from the ``clients(service, region)`` callable (``audit.config.base.Clients``): the portal builds
them through ``portal.aws`` as the account's role, so every call crosses the one AWS boundary.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from audit.config.base import Clients, Collector, Snapshot, error_code
from audit.config.registry import collectors

__all__ = ["FAILED", "SKIPPED", "SUCCEEDED", "Action", "ActionError", "Outcome", "Plan", "Target", "aws_error",
           "document", "error_message", "method_name"]

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
SKIPPED = "SKIPPED"

CHANGED = "Target changed since the plan"


@dataclass(frozen=True)
class Target:
    resource_type: str  # "AWS::EC2::SecurityGroup"
    resource_id: str  # as the recorder knows it: sg-..., a bucket's or trail's name, a recorder's name
    account_id: str
    region: str  # the resource's region; "global" for IAM (the clients callable maps it)
    # What the action needs beyond the resource: {"recorder_name": ...}, {"ports": [22]}, {"tags": {...}},
    # {"log_destination": "arn:aws:s3:::bucket", "traffic_type": "ALL"}, {"kms_key_id": ...}, {"message": ...}.
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        return cls(data["resource_type"], data["resource_id"], data["account_id"], data["region"],
                   dict(data.get("details") or {}))


@dataclass(frozen=True)
class Plan:
    """What `preview` answers. `calls` are made in order; `api_call` and `parameters` are the first one's."""

    action: str  # the action's name, "revoke_world_ingress"
    target: Target
    api_call: str  # "ec2:RevokeSecurityGroupIngress"
    parameters: dict[str, Any]  # the exact request parameters, JSON-able, as they will be sent
    expected_change: str  # one sentence: "Removes 0.0.0.0/0 and ::/0 from tcp 22 on sg-..."
    noop: bool = False  # the resource is already fine: nothing to do
    calls: list[dict[str, Any]] = field(default_factory=list)  # [{"api_call": ..., "parameters": {...}}]
    blocked: str = ""  # why this cannot be applied (a detail missing, the resource gone); "" when it can
    error_code: str = ""  # AWS's error code when reading the resource failed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        fields = {k: v for k, v in data.items() if k != "target"}
        return cls(target=Target.from_dict(data["target"]), **fields)


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCEEDED | FAILED | SKIPPED
    message: str  # one line; for FAILED, AWS's error code and message
    before: dict[str, Any] | None = None  # the resource as the recorder documents it, before the calls
    after: dict[str, Any] | None = None  # ... and after (None: it does not exist)
    verified: bool = False  # the re-read shows the fix
    error_code: str = ""  # AWS's error code for FAILED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ActionError(Exception):
    """A refusal AWS reported inside a successful answer (CreateFlowLogs' Unsuccessful list)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def aws_error(exc: BaseException) -> bool:
    """Whether `exc` came from AWS or the way to it (botocore's errors, duck-typed) rather than from a bug."""
    if isinstance(exc, ActionError):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return True
    return any(kind.__module__.split(".")[0] == "botocore" for kind in type(exc).__mro__)


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ActionError):
        return exc.message
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message"):
        return str(response["Error"]["Message"])
    return str(exc)


def _code(exc: BaseException) -> str:
    if isinstance(exc, ActionError):
        return exc.code
    return error_code(exc) or type(exc).__name__  # type: ignore[arg-type]


def document(snapshot: Snapshot | None) -> dict[str, Any] | None:
    """A snapshot as the recorder stores a configuration item's state (and diffs two of them); None when gone."""
    if snapshot is None:
        return None
    return {"configuration": snapshot.configuration, "supplementary": snapshot.supplementary,
            "tags": snapshot.tags, "relationships": [r.as_dict() for r in sorted(set(snapshot.relationships))]}


def method_name(api_call: str) -> str:
    """``ec2:RevokeSecurityGroupIngress`` -> ``revoke_security_group_ingress`` (the client's method)."""
    operation = api_call.split(":", 1)[-1]
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", operation).lower()


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class Action:
    """The base of every action. A subclass sets the class attributes and writes `plan` and `verify`.

    `plan(clients, target)` reads the resource (AWS errors propagate) and builds the Plan with `make_plan`,
    `noop_plan` or `blocked_plan`; `preview` wraps it so that an AWS error becomes a blocked plan.
    `plan_recorded(target, recorded)` builds the same Plan from a recorded configuration item instead of a live
    read (the live `plan` and it share the code that turns the resource's state into a Plan); `preview_recorded`
    wraps it as `preview` wraps `plan`.
    `verify(clients, target)` re-reads the resource with the collectors and says whether the fix is there."""

    name = ""  # snake-case, "revoke_world_ingress"
    title = ""  # for people: "Revoke world-open ingress"
    api_call = ""  # the AWS call it makes, "ec2:RevokeSecurityGroupIngress" ("" when it varies by type)
    resource_types: tuple[str, ...] = ()  # the types it works on; () for any type
    # Pauses before each verify attempt: AWS is eventually consistent, the sandbox is not.
    verify_delays: tuple[float, ...] = (0.0, 1.0, 3.0)
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    # ------------------------------------------------------------------------------------------ to write

    def plan(self, clients: Clients, target: Target) -> Plan:
        raise NotImplementedError

    def verify(self, clients: Clients, target: Target) -> bool:
        raise NotImplementedError

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """The plan `plan` would have made had it read the resource in the state `recorded` (a configuration item as
        the recorder stores it: {"configuration", "supplementary", "tags", "relationships", "arn" (optional),
        "related": [{"resource_type", "resource_id", "configuration", "tags"}] (optional; a VPC's flow logs)}).
        None: nothing was recorded (blocked plan naming that). Pure: no AWS call.

        An action that can plan from a recorded item overrides this (starting with `nothing_recorded` for None);
        this default says it cannot."""
        return self.blocked_plan(target, f"{self.name} cannot plan from a recorded configuration")

    # ------------------------------------------------------------------------------------------ may override

    def collector(self, target: Target) -> Collector | None:
        """The recorder's collector for the target's type (for `document` and `verify`)."""
        return collectors().get(target.resource_type)

    def snapshot(self, clients: Clients, target: Target) -> Snapshot | None:
        collector = self.collector(target)
        return None if collector is None else collector.get(clients, target.region, target.resource_id)

    def document(self, clients: Clients, target: Target) -> dict[str, Any] | None:
        """The resource's state for the before/after of an outcome (the recorder's document shape)."""
        return document(self.snapshot(clients, target))

    def matches(self, plan: Plan, fresh: Plan) -> bool:
        """Whether `plan` is still what the resource needs, given a plan made from a fresh read."""
        return _same(plan.calls, fresh.calls)

    def nominal_call(self, target: Target) -> str:
        """The call a plan names when it makes none (a noop or blocked plan)."""
        return self.api_call

    def check_answer(self, call: dict[str, Any], answer: dict[str, Any]) -> None:
        """Raise ActionError when an answer reports a refusal inside a success (see ActionError)."""

    def execute(self, clients: Clients, target: Target, call: dict[str, Any]) -> dict[str, Any]:
        service = call["api_call"].split(":", 1)[0]
        client = clients(service, target.region)
        answer = getattr(client, method_name(call["api_call"]))(**json.loads(json.dumps(call["parameters"])))
        self.check_answer(call, answer or {})
        return answer or {}

    # ------------------------------------------------------------------------------------------ plans

    def make_plan(self, target: Target, calls: list[dict[str, Any]], expected_change: str) -> Plan:
        first = calls[0] if calls else {"api_call": self.nominal_call(target), "parameters": {}}
        return Plan(self.name, target, first["api_call"], first["parameters"], _one_line(expected_change),
                    noop=False, calls=calls)

    def noop_plan(self, target: Target, why: str) -> Plan:
        return Plan(self.name, target, self.nominal_call(target), {}, _one_line(why), noop=True)

    def blocked_plan(self, target: Target, why: str, code: str = "") -> Plan:
        return Plan(self.name, target, self.nominal_call(target), {}, "", blocked=_one_line(why), error_code=code)

    def nothing_recorded(self, target: Target) -> Plan:
        """The plan from a recorded item that is None: the recorder holds no configuration of the resource."""
        return self.blocked_plan(target, f"Nothing was recorded for {target.resource_type} {target.resource_id}: "
                                         f"there is no recorded configuration to plan from")

    def not_recorded(self, target: Target, what: str) -> Plan:
        """The plan from a recorded item that lacks `what` (one phrase: "configuration.isLogging")."""
        return self.blocked_plan(target, f"The recorded configuration of {target.resource_type} {target.resource_id} "
                                         f"has no {what}")

    @staticmethod
    def call(api_call: str, **parameters: Any) -> dict[str, Any]:
        return {"api_call": api_call, "parameters": parameters}

    # ------------------------------------------------------------------------------------------ the protocol

    def preview(self, clients: Clients, target: Target) -> Plan:
        """The exact calls that would fix the target, read from AWS now; never raises for an AWS error."""
        if self.resource_types and target.resource_type not in self.resource_types:
            return self.blocked_plan(target, f"{self.name} does not apply to {target.resource_type}")
        try:
            return self.plan(clients, target)
        except Exception as exc:
            if not aws_error(exc):
                raise
            return self.blocked_plan(target, f"{_code(exc)}: {error_message(exc)}", _code(exc))

    def preview_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """The exact calls that would have fixed the target in its `recorded` state (see `plan_recorded`); no AWS
        call. `apply` takes such a plan like any other: it goes ahead only when a fresh preview still matches."""
        if self.resource_types and target.resource_type not in self.resource_types:
            return self.blocked_plan(target, f"{self.name} does not apply to {target.resource_type}")
        return self.plan_recorded(target, recorded)

    def apply(self, clients: Clients, plan: Plan) -> Outcome:
        """Re-read, make the plan's calls if it still matches, re-read and verify. Never raises for AWS errors."""
        if plan.action != self.name:
            raise ValueError(f"{self.name} cannot apply a plan of {plan.action}")
        target = plan.target
        if plan.blocked:
            return Outcome(FAILED, f"Cannot apply: {plan.blocked}", error_code=plan.error_code)
        try:
            before = self.document(clients, target)
        except Exception as exc:
            if not aws_error(exc):
                raise
            return self._failed(exc, None, None)
        fresh = self.preview(clients, target)
        if fresh.blocked:
            return Outcome(FAILED, fresh.blocked, before, before, error_code=fresh.error_code)
        if fresh.noop:
            why = "Nothing to do" if plan.noop else f"{CHANGED}: already fixed"
            return Outcome(SKIPPED, f"{why}: {fresh.expected_change}", before, before)
        if plan.noop or not self.matches(plan, fresh):
            return Outcome(SKIPPED, f"{CHANGED}: preview again ({fresh.expected_change})", before, before)
        done = []
        try:
            for call in plan.calls:
                self.execute(clients, target, call)
                done.append(call["api_call"])
        except Exception as exc:
            if not aws_error(exc):
                raise
            made = f" (after {', '.join(done)} succeeded)" if done else ""
            return self._failed(exc, before, self._quiet_document(clients, target), made)
        try:
            verified = self._verify_with_patience(clients, target)
            after = self.document(clients, target)
        except Exception as exc:
            if not aws_error(exc):
                raise
            return self._failed(exc, before, None, f" (re-reading after {', '.join(done)})")
        made = ", ".join(done)
        if verified:
            return Outcome(SUCCEEDED, f"{plan.expected_change} ({made}; verified)", before, after, verified=True)
        return Outcome(FAILED, f"Made {made}, but the resource read afterwards does not show the fix", before, after)

    # ------------------------------------------------------------------------------------------ helpers

    def _verify_with_patience(self, clients: Clients, target: Target) -> bool:
        for delay in self.verify_delays or (0.0,):
            if delay:
                self.sleep(delay)
            if self.verify(clients, target):
                return True
        return False

    def _quiet_document(self, clients: Clients, target: Target) -> dict[str, Any] | None:
        try:
            return self.document(clients, target)
        except Exception as exc:
            if not aws_error(exc):
                raise
            return None

    @staticmethod
    def _failed(exc: Exception, before: dict[str, Any] | None, after: dict[str, Any] | None,
                suffix: str = "") -> Outcome:
        """The FAILED outcome of an AWS error (the caller has checked `aws_error`)."""
        code = _code(exc)
        return Outcome(FAILED, _one_line(f"{code}: {error_message(exc)}{suffix}"), before, after, error_code=code)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
