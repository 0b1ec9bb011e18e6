"""Compute actions: stop an instance."""

from __future__ import annotations

from typing import Any

from audit.config.base import Clients
from audit.config.collectors.ec2 import InstanceCollector
from remediation.actions.base import Action, Plan, Target

__all__ = ["StopInstance"]

INSTANCE = "AWS::EC2::Instance"
STOPPED_STATES = frozenset({"stopping", "stopped"})
GONE_STATES = frozenset({"shutting-down", "terminated"})


class StopInstance(Action):
    name = "stop_instance"
    title = "Stop the instance"
    api_call = "ec2:StopInstances"
    resource_types = (INSTANCE,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        # InvalidInstanceID.NotFound when there is no such instance
        answer = clients("ec2", target.region).describe_instances(InstanceIds=[target.resource_id])
        instance = next((i for r in answer.get("Reservations") or [] for i in r.get("Instances") or []
                         if i.get("InstanceId") == target.resource_id), None)
        if instance is None:
            return self.blocked_plan(target, f"Instance {target.resource_id} does not exist")
        return self._plan_from(target, str((instance.get("State") or {}).get("Name") or ""))

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From configuration.state.name. (The recorder records nothing for a terminated instance: None.)"""
        if recorded is None:
            return self.nothing_recorded(target)
        state = ((recorded.get("configuration") or {}).get("state") or {}).get("name")
        if not state:
            return self.not_recorded(target, "configuration.state.name")
        return self._plan_from(target, str(state))

    def _plan_from(self, target: Target, state: str) -> Plan:
        if state in STOPPED_STATES or state in GONE_STATES:
            return self.noop_plan(target, f"Nothing to do: {target.resource_id} is {state}")
        call = self.call(self.api_call, InstanceIds=[target.resource_id])
        return self.make_plan(target, [call], f"Stops the instance {target.resource_id} (now {state}); its EBS "
                                              f"volumes are kept")

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = InstanceCollector().get(clients, target.region, target.resource_id)
        return snapshot is not None and (snapshot.configuration.get("state") or {}).get("name") in STOPPED_STATES
