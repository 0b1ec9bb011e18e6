"""Notify: no AWS call. The plan carries the message; the portal sends it (mail, the alert feed)."""

from __future__ import annotations

from typing import Any

from audit.config.base import Clients
from remediation.actions.base import SUCCEEDED, Action, Outcome, Plan, Target

__all__ = ["Notify"]

TEMPLATE = "{resource_type} {resource_id} in account {account_id} ({region}) needs attention"


class _Fields(dict):
    def __missing__(self, key: str) -> str:  # an unknown {placeholder} stays as written
        return "{" + key + "}"


class Notify(Action):
    """details: "message" (a template; {resource_type}, {resource_id}, {account_id}, {region} and any detail
    fill in), "recipients" (optional, passed through to the portal)."""

    name = "notify"
    title = "Notify"
    api_call = "guardrail:Notify"
    resource_types = ()  # any type
    template = TEMPLATE

    def message(self, target: Target) -> str:
        template = str(target.details.get("message") or self.template)
        fields = _Fields({**{k: v for k, v in target.details.items() if k != "message"},
                          "resource_type": target.resource_type, "resource_id": target.resource_id,
                          "account_id": target.account_id, "region": target.region})
        try:
            return template.format_map(fields)
        except (ValueError, IndexError):  # a stray brace: the template as written
            return template

    def plan(self, clients: Clients, target: Target) -> Plan:
        return self._plan_from(target)

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """The same plan as `plan` (the message depends on the target only), but blocked, like every action's,
        when nothing was recorded for the resource."""
        if recorded is None:
            return self.nothing_recorded(target)
        return self._plan_from(target)

    def _plan_from(self, target: Target) -> Plan:
        parameters: dict[str, Any] = {"message": self.message(target)}
        if target.details.get("recipients"):
            parameters["recipients"] = list(target.details["recipients"])
        return self.make_plan(target, [self.call(self.api_call, **parameters)],
                              f"Sends the notification: {parameters['message']}")

    def apply(self, clients: Clients, plan: Plan) -> Outcome:
        """Nothing is called and nothing in AWS changes, so nothing is verified: the portal sends the message."""
        return Outcome(SUCCEEDED, f"Notification handed to the portal: {plan.parameters.get('message', '')}")

    def verify(self, clients: Clients, target: Target) -> bool:
        return False  # a notification fixes nothing in AWS
