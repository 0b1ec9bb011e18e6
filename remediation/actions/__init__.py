"""The remediation action library (issue 8): each action previews, applies and verifies one fix.

``ACTIONS`` maps each action's name to its (stateless) instance; ``action_by_name`` finds one and
``actions_for`` lists those that work on a resource type. See ``remediation.actions.base`` for the protocol.
"""

from __future__ import annotations

from remediation.actions.base import (
    FAILED,
    SKIPPED,
    SUCCEEDED,
    Action,
    Outcome,
    Plan,
    Target,
)
from remediation.actions.compute import StopInstance
from remediation.actions.network import EnableVpcFlowLogs, RevokeWorldIngress
from remediation.actions.notify import Notify
from remediation.actions.recording import StartCloudTrailLogging, StartConfigRecorder
from remediation.actions.storage import BlockS3PublicAccess, EnableBucketEncryption
from remediation.actions.tagging import AddRequiredTags

__all__ = ["ACTIONS", "FAILED", "SKIPPED", "SUCCEEDED", "Action", "Outcome", "Plan", "Target", "action_by_name",
           "actions_for"]

ACTIONS: dict[str, Action] = {action.name: action for action in (
    RevokeWorldIngress(),
    StartConfigRecorder(),
    StartCloudTrailLogging(),
    EnableVpcFlowLogs(),
    AddRequiredTags(),
    BlockS3PublicAccess(),
    EnableBucketEncryption(),
    StopInstance(),
    Notify(),
)}


def action_by_name(name: str) -> Action:
    """The action called `name`; KeyError naming the known ones otherwise."""
    try:
        return ACTIONS[name]
    except KeyError:
        raise KeyError(f"No remediation action named {name!r} (known: {', '.join(sorted(ACTIONS))})") from None


def actions_for(resource_type: str) -> list[Action]:
    """The actions that work on `resource_type` (notify, which works on any, last)."""
    return sorted((a for a in ACTIONS.values() if not a.resource_types or resource_type in a.resource_types),
                  key=lambda a: (not a.resource_types, a.name))
