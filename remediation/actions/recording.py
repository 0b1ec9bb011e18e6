"""Actions that bring the account's own records back: start a stopped Config recorder, start a trail logging."""

from __future__ import annotations

from typing import Any

from audit.config.base import Clients, Snapshot
from audit.config.collectors.cloudtrail import TrailCollector
from audit.config.collectors.configservice import ConfigurationRecorderCollector
from remediation.actions.base import Action, Plan, Target

__all__ = ["StartCloudTrailLogging", "StartConfigRecorder"]

RECORDER = "AWS::Config::ConfigurationRecorder"
TRAIL = "AWS::CloudTrail::Trail"


def recorder_name(target: Target) -> str:
    """The recorder's name as the event gave it (details.recorder_name), else the resource id; never assumed."""
    return str(target.details.get("recorder_name") or target.resource_id)


class StartConfigRecorder(Action):
    """details: "recorder_name" (from the StopConfigurationRecorder event); the resource id otherwise."""

    name = "start_config_recorder"
    title = "Start the Config recorder"
    api_call = "config:StartConfigurationRecorder"
    resource_types = (RECORDER,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        name = recorder_name(target)
        # NoSuchConfigurationRecorderException when no recorder has this name
        answer = clients("config", target.region).describe_configuration_recorder_status(
            ConfigurationRecorderNames=[name])
        status = next((s for s in answer.get("ConfigurationRecordersStatus") or [] if s.get("name") == name), None)
        return self._plan_from(target, None if status is None else bool(status.get("recording")))

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From the AWS::Config::ConfigurationRecorder item: configuration.recording (the collector's copy of the
        status); configuration.name, when there, must be the recorder the plan names (details.recorder_name)."""
        if recorded is None:
            return self.nothing_recorded(target)
        configuration = recorded.get("configuration") or {}
        name = str(configuration.get("name") or recorder_name(target))
        if name != recorder_name(target):
            return self.blocked_plan(target, f"The recorded configuration is of the recorder {name!r}, not "
                                             f"{recorder_name(target)!r}")
        if not isinstance(configuration.get("recording"), bool):
            return self.not_recorded(target, "configuration.recording")
        return self._plan_from(target, configuration["recording"])

    def _plan_from(self, target: Target, recording: bool | None) -> Plan:
        """The plan for the recorder that is `recording` or not (None: there is no recorder of that name)."""
        name = recorder_name(target)
        if recording is None:
            return self.blocked_plan(target, f"No configuration recorder named {name!r} in {target.region}")
        if recording:
            return self.noop_plan(target, f"Nothing to do: the recorder {name} is recording")
        call = self.call(self.api_call, ConfigurationRecorderName=name)
        return self.make_plan(target, [call], f"Starts the Config recorder {name} in {target.region}")

    def snapshot(self, clients: Clients, target: Target) -> Snapshot | None:
        return ConfigurationRecorderCollector().get(clients, target.region, recorder_name(target))

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = self.snapshot(clients, target)
        return snapshot is not None and bool(snapshot.configuration.get("recording"))


class StartCloudTrailLogging(Action):
    """The trail: the resource id (its name, or its ARN)."""

    name = "start_cloudtrail_logging"
    title = "Start CloudTrail logging"
    api_call = "cloudtrail:StartLogging"
    resource_types = (TRAIL,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        # TrailNotFoundException when there is no such trail
        status = clients("cloudtrail", target.region).get_trail_status(Name=target.resource_id)
        return self._plan_from(target, bool(status.get("IsLogging")))

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From the trail's configuration.isLogging (the collector's copy of GetTrailStatus' IsLogging)."""
        if recorded is None:
            return self.nothing_recorded(target)
        logging = (recorded.get("configuration") or {}).get("isLogging")
        if not isinstance(logging, bool):
            return self.not_recorded(target, "configuration.isLogging")
        return self._plan_from(target, logging)

    def _plan_from(self, target: Target, logging: bool) -> Plan:
        trail = target.resource_id
        if logging:
            return self.noop_plan(target, f"Nothing to do: the trail {trail} is logging")
        call = self.call(self.api_call, Name=trail)
        return self.make_plan(target, [call], f"Starts logging on the trail {trail}")

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = TrailCollector().get(clients, target.region, target.resource_id)
        return snapshot is not None and bool(snapshot.configuration.get("isLogging"))
