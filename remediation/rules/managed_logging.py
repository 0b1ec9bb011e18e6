"""The logging rules: a CloudTrail trail that logs, a multi-region one that records management events, and a
Config recorder that records.

A trail's configuration is DescribeTrails' item plus isLogging and its event selectors, basic
(eventSelectors) or advanced (advancedEventSelectors). A trail with neither records every management event,
read and write, as a trail created without selectors does.
"""

from __future__ import annotations

from typing import Any

from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    AccountView,
    Evaluation,
    Param,
    ResourceView,
)
from remediation.rules.managed_common import ManagedRule, check_choice, flag

__all__ = ["CloudTrailEnabled", "ConfigRecorderRecording", "MultiRegionCloudTrailEnabled", "management_events"]

TRAIL = "AWS::CloudTrail::Trail"
RECORDER = "AWS::Config::ConfigurationRecorder"
BOTH = frozenset({"read", "write"})
_READ_WRITE = {"ALL": BOTH, "READONLY": frozenset({"read"}), "WRITEONLY": frozenset({"write"})}
# The trail setting each optional parameter names, and how the configuration spells it (lowerCamelCased).
_DESTINATIONS = (("s3BucketName", "s3BucketName", "delivers to bucket"),
                 ("snsTopicArn", "snsTopicARN", "notifies topic"),
                 ("cloudWatchLogsLogGroupArn", "cloudWatchLogsLogGroupArn", "sends to log group"))
_DESTINATION_PARAMS = tuple(Param(name, description=f"The trail {what} this") for name, _, what in _DESTINATIONS)


def _value(config: dict[str, Any], key: str) -> Any:
    lowered = {str(k).lower(): v for k, v in config.items()}
    return lowered.get(key.lower())


def _advanced(selector: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """(the management events an advanced selector records, whether it leaves event sources out)."""
    fields = {str(f.get("field", "")).lower(): f for f in selector.get("fieldSelectors") or [] if isinstance(f, dict)}
    category = fields.get("eventcategory") or {}
    if "Management" not in (category.get("equals") or []):
        return frozenset(), False
    read_only = fields.get("readonly") or {}
    kinds = BOTH
    if read_only.get("equals"):
        kinds = frozenset({"read" if str(v).lower() == "true" else "write" for v in read_only["equals"]})
    elif read_only.get("notEquals"):
        kinds = BOTH - {"read" if str(v).lower() == "true" else "write" for v in read_only["notEquals"]}
    return kinds, "eventsource" in fields


def management_events(config: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """({"read", "write"} or a part of it: the management events the trail records, whether sources are excluded)."""
    basic = config.get("eventSelectors") or []
    advanced = config.get("advancedEventSelectors") or []
    if not basic and not advanced:
        return BOTH, False
    kinds: set[str] = set()
    excluded = False
    for selector in basic:
        if isinstance(selector, dict) and selector.get("includeManagementEvents", True):
            kinds |= _READ_WRITE.get(str(selector.get("readWriteType") or "All").upper(), BOTH)
            excluded |= bool(selector.get("excludeManagementEventSources"))
    for selector in advanced:
        if isinstance(selector, dict):
            found, leaves_out = _advanced(selector)
            kinds |= found
            excluded |= leaves_out and bool(found)
    return frozenset(kinds), excluded


def _events(kinds: frozenset[str]) -> str:
    return "read and write" if kinds == BOTH else "no" if not kinds else "only " + next(iter(kinds))


def _trails(account: AccountView) -> list[ResourceView]:
    return sorted(account.resources.get(TRAIL) or [], key=lambda t: t.resource_id)


class _TrailRule(ManagedRule):
    periodic = True
    kind = ""  # "multi-region": the trails that count

    def problems(self, trail: ResourceView, params: dict[str, str]) -> list[str]:
        config = trail.configuration
        found = []
        logging = config.get("isLogging")
        if logging is not True:
            found.append("logging status not recorded" if logging is None else "not logging")
        for param, key, what in _DESTINATIONS:
            wanted = params.get(param)
            if wanted and _value(config, key) != wanted:
                found.append(f"{what} {_value(config, key) or 'none'}, not {wanted}")
        return found

    def qualifies(self, trail: ResourceView) -> bool:
        return True

    def check_account(self, account: AccountView, params: dict[str, str]) -> Evaluation:
        trails = _trails(account)
        if not trails:
            return Evaluation(NON_COMPLIANT, "No CloudTrail trail in the account")
        candidates = [t for t in trails if self.qualifies(t)]
        if not candidates:
            names = ", ".join(t.resource_id for t in trails)
            return Evaluation(NON_COMPLIANT, f"No {self.kind} trail (trails: {names})")
        verdicts = [(trail, self.problems(trail, params)) for trail in candidates]
        for trail, problems in verdicts:
            if not problems:
                return Evaluation(COMPLIANT, self.praise(trail, params))
        if all(trail.configuration.get("isLogging") is None for trail in candidates):
            return Evaluation(INSUFFICIENT_DATA, "No trail's logging status was recorded")
        shown = "; ".join(f"{trail.resource_id}: {', '.join(problems)}" for trail, problems in verdicts[:3])
        more = f"; +{len(verdicts) - 3} more" if len(verdicts) > 3 else ""
        return Evaluation(NON_COMPLIANT, f"No {self.kind + ' ' if self.kind else ''}trail qualifies ({shown}{more})")

    def praise(self, trail: ResourceView, params: dict[str, str]) -> str:
        return f"Trail {trail.resource_id} is logging"


class CloudTrailEnabled(_TrailRule):
    name = "cloudtrail-enabled"
    identifier = "CLOUD_TRAIL_ENABLED"
    description = "The account has a CloudTrail trail that is logging (to the given bucket, topic, log group)."
    parameters = _DESTINATION_PARAMS


class MultiRegionCloudTrailEnabled(_TrailRule):
    name = "multi-region-cloudtrail-enabled"
    identifier = "MULTI_REGION_CLOUD_TRAIL_ENABLED"
    description = ("The account has a multi-region trail that is logging and records management events "
                   "(read and write by default), excluding no event source.")
    parameters = _DESTINATION_PARAMS + (
        Param("includeManagementEvents", default="true", description="The trail must record management events"),
        Param("readWriteType", default="ALL", description="The management events to record: ReadOnly, WriteOnly or ALL"),
    )
    kind = "multi-region"

    def check_params(self, params: dict[str, str]) -> None:
        try:
            flag(params.get("includeManagementEvents"))
        except ValueError as exc:
            raise ValueError(f"includeManagementEvents: {exc}") from None
        check_choice(params, "readWriteType", ("ReadOnly", "WriteOnly", "ALL"))

    def qualifies(self, trail: ResourceView) -> bool:
        return trail.configuration.get("isMultiRegionTrail") is True

    def problems(self, trail: ResourceView, params: dict[str, str]) -> list[str]:
        found = super().problems(trail, params)
        if flag(params.get("includeManagementEvents")) is False:
            return found
        wanted = _READ_WRITE[params.get("readWriteType", "ALL").upper()]
        kinds, excluded = management_events(trail.configuration)
        if not wanted <= kinds:
            found.append(f"records {_events(kinds)} management events, not {_events(wanted).removeprefix('only ')}")
        if excluded:
            found.append("excludes management event sources")
        return found

    def praise(self, trail: ResourceView, params: dict[str, str]) -> str:
        kinds, _ = management_events(trail.configuration)
        return f"Multi-region trail {trail.resource_id} is logging {_events(kinds)} management events"


class ConfigRecorderRecording(ManagedRule):
    name = "config-recorder-recording"
    identifier = "GUARDRAIL_CONFIG_RECORDER_RECORDING"
    description = "Config recorders are recording (Guardrail's rule; AWS Security Hub's Config.1 is the closest)."
    resource_types = (RECORDER,)

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        recording = resource.configuration.get("recording")
        if recording is None:
            return Evaluation(INSUFFICIENT_DATA, f"Recorder {resource.resource_id}'s status was not recorded")
        if recording is True:
            return Evaluation(COMPLIANT, f"Recorder {resource.resource_id} is recording")
        stopped = resource.configuration.get("lastStopTime")
        since = f" (stopped {stopped})" if stopped else ""
        return Evaluation(NON_COMPLIANT, f"Recorder {resource.resource_id} is not recording{since}")
