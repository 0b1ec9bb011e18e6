"""AWS Config's own configuration recorders, and whether they are recording.

The recorder's configuration is DescribeConfigurationRecorders' item plus, from
DescribeConfigurationRecorderStatus, whether it is recording, its last status and when it was last started
and stopped, so a StopConfigurationRecorder is a change of the recorder like any other. The status's other
times (lastStatusChangeTime) and error details move without anyone touching the recorder and are left out.

`recorder_status(clients, region)` is the plain answer the portal mirrors: each recorder's name, whether it
records, and its last start and stop.

Pure Python like ``audit.config.base``: no Django, no botocore import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from audit.config.base import Clients, Snapshot, error_code, jsonable, lower_camel, utc

__all__ = ["COLLECTORS", "RECORDER", "ConfigurationRecorderCollector", "recorder_status"]

RECORDER = "AWS::Config::ConfigurationRecorder"

_NO_RECORDER = frozenset({"NoSuchConfigurationRecorderException"})
# What the recorder's configuration keeps of its status: these change only when it is started or stopped
# (lastStatus moves from pending to success once, or to failure when delivery breaks).
_STATUS_KEYS = ("recording", "lastStatus", "lastStartTime", "lastStopTime")


def _describe(config: Any, operation: str, key: str, names: list[str] | None) -> list[dict[str, Any]] | None:
    """The recorders (or their statuses) of the region, or only `names`; None when a named one does not exist."""
    kwargs = {"ConfigurationRecorderNames": names} if names else {}
    try:
        return list(getattr(config, operation)(**kwargs).get(key) or [])
    except Exception as exc:
        if names and error_code(exc) in _NO_RECORDER:
            return None
        raise


def _statuses(config: Any, names: list[str] | None = None) -> dict[str, dict[str, Any]] | None:
    found = _describe(config, "describe_configuration_recorder_status", "ConfigurationRecordersStatus", names)
    return None if found is None else {s["name"]: s for s in found if s.get("name")}


def _snapshot(region: str, recorder: dict[str, Any], status: dict[str, Any]) -> Snapshot:
    name = recorder["name"]
    configuration = lower_camel(recorder)
    for key in _STATUS_KEYS:
        configuration[key] = jsonable(status.get(key))
    configuration["recording"] = bool(status.get("recording"))
    return Snapshot(resource_type=RECORDER, resource_id=name, region=region, configuration=configuration,
                    arn=recorder.get("arn") or "", name=name)


class ConfigurationRecorderCollector:
    resource_type = RECORDER
    global_ = False

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        config = clients("config", region)
        recorders = _describe(config, "describe_configuration_recorders", "ConfigurationRecorders", None) or []
        statuses = _statuses(config) or {}
        for recorder in sorted(recorders, key=lambda r: r["name"]):
            yield _snapshot(region, recorder, statuses.get(recorder["name"], {}))

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        config = clients("config", region)
        found = _describe(config, "describe_configuration_recorders", "ConfigurationRecorders", [resource_id])
        recorder = next((r for r in found or [] if r.get("name") == resource_id), None)
        if recorder is None:
            return None
        statuses = _statuses(config, [resource_id])
        if statuses is None:
            return None  # deleted between the two calls
        return _snapshot(region, recorder, statuses.get(resource_id, {}))


def recorder_status(clients: Clients, region: str) -> list[dict[str, Any]]:
    """[{name, recording, last_start_time, last_stop_time}] for every recorder in `region`, by name.

    The times are timezone-aware UTC datetimes, or None when the recorder was never started (or stopped)."""
    statuses = _statuses(clients("config", region)) or {}
    return [{"name": name, "recording": bool(status.get("recording")),
             "last_start_time": utc(status.get("lastStartTime")), "last_stop_time": utc(status.get("lastStopTime"))}
            for name, status in sorted(statuses.items())]


COLLECTORS = (ConfigurationRecorderCollector(),)
