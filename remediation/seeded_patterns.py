"""The event rules the portal seeds, in EventBridge's syntax (see audit.cloudtrail.patterns)."""

from typing import Any

_WORLD = [{"suffix": "/0"}]
# The event rules the portal seeds. "To the world" looks at both ways an ingress rule is logged: the flat
# CidrIp parameter and each ipPermissions item's IPv4 and IPv6 ranges.
SEEDED_PATTERNS: dict[str, dict[str, Any]] = {
    "config-recorder-stopped": {"source": ["aws.config"], "detail": {"eventName": ["StopConfigurationRecorder"]}},
    "cloudtrail-stopped": {"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging", "DeleteTrail"]}},
    "flow-logs-deleted": {"source": ["aws.ec2"], "detail": {"eventName": ["DeleteFlowLogs"]}},
    "security-group-open-to-world": {"source": ["aws.ec2"], "detail": {
        "eventName": ["AuthorizeSecurityGroupIngress"],
        "requestParameters": {"$or": [
            {"cidrIp": _WORLD},
            {"ipPermissions": {"items": {"ipRanges": {"items": {"cidrIp": _WORLD}}}}},
            {"ipPermissions": {"items": {"ipv6Ranges": {"items": {"cidrIpv6": _WORLD}}}}},
        ]}}},
}
