"""AWS::Events::EventBusPolicy: one statement of an event bus's resource policy (moto's CloudFormation has no such
type: it would warn, leave it out and still report CREATE_COMPLETE)."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.parsing import CloudFormationModel
from moto.events.models import EventBus, EventBusPolicyStatement, events_backends

from sandbox.cfn_types.base import Handle, JSONDict, KitResourceError, as_dict


class KitEventBusPolicy(Handle, CloudFormationModel):
    resource_type = "AWS::Events::EventBusPolicy"
    known_properties = ("EventBusName", "StatementId", "Statement")

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Events::EventBusPolicy"

    def _bus(self) -> EventBus:
        name = str(self.properties.get("EventBusName") or "default").rsplit("/", 1)[-1]
        bus = events_backends[self.account_id][self.region_name].event_buses.get(name)
        if bus is None:
            raise KitResourceError(self.resource_type, f"Event bus {name} does not exist.")
        return bus

    def _put(self) -> None:
        sid = str(self.properties.get("StatementId") or "")
        statement = as_dict(self.properties.get("Statement"))
        if not sid or not statement:
            raise KitResourceError(self.resource_type, "StatementId and Statement are required.")
        action = statement.get("Action")
        self._bus()._statements[sid] = EventBusPolicyStatement(
            sid=sid, principal=statement.get("Principal"), action=action, resource=statement.get("Resource"),
            effect=statement.get("Effect", "Allow"), condition=statement.get("Condition"))

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitEventBusPolicy:
        properties = cls._properties(cloudformation_json)
        handle = cls(account_id, region_name, str(properties.get("StatementId") or resource_name), properties)
        handle._put()
        return handle

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitEventBusPolicy, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitEventBusPolicy:
        properties = cls._properties(cloudformation_json)
        original_resource._remove()
        original_resource.properties = properties
        original_resource._put()
        return original_resource

    def _remove(self) -> None:
        name = str(self.properties.get("EventBusName") or "default").rsplit("/", 1)[-1]
        bus = events_backends[self.account_id][self.region_name].event_buses.get(name)
        if bus is not None:
            bus.remove_statement(str(self.properties.get("StatementId") or ""))

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        pass  # the handle knows its bus and statement
