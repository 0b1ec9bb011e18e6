"""The rules and remediation policies every portal starts with (`manage.py setup` and the demo alike).

Rules from the managed library that need no choice of the organisation's (the demo adds those that do: required
tags, instance types, authorised ports; see remediation/demo.py). Policies are installed in dry run: they record
what they would do and change nothing until an admin sets them to enforce. Installing adds what is missing and
never overwrites an admin's edit.
"""

from collections.abc import Collection
from typing import Any, NamedTuple

from remediation.models import Policy, PolicyMode, Rule
from remediation.seeded_patterns import SEEDED_PATTERNS


class RuleSpec(NamedTuple):
    name: str
    parameters: dict[str, Any]
    at_launch: str
    description: str


class PolicySpec(NamedTuple):
    name: str
    rule: str | None  # the rule whose non-compliant resources it acts on, or
    pattern: str | None  # the seeded event pattern whose events it acts on
    actions: list[dict[str, Any]]
    description: str


BUILTIN_RULES: list[RuleSpec] = [
    RuleSpec("restricted-ssh", {}, Rule.AtLaunch.BLOCK, "No security group lets the world reach port 22."),
    RuleSpec("restricted-common-ports", {}, Rule.AtLaunch.BLOCK,
             "No security group opens 20, 21, 3389, 3306, 4333 to the world."),
    RuleSpec("cloudtrail-enabled", {}, Rule.AtLaunch.IGNORE, "CloudTrail logs in every account."),
    RuleSpec("multi-region-cloudtrail-enabled", {}, Rule.AtLaunch.IGNORE,
             "A multi-region trail records management events."),
    RuleSpec("mfa-enabled-for-iam-console-access", {}, Rule.AtLaunch.IGNORE, "Console users have MFA."),
    RuleSpec("root-account-mfa-enabled", {}, Rule.AtLaunch.IGNORE, "The root user has MFA."),
    RuleSpec("vpc-flow-logs-enabled", {}, Rule.AtLaunch.IGNORE, "Every VPC has flow logs."),
    RuleSpec("s3-bucket-public-read-prohibited", {}, Rule.AtLaunch.FIX, "No bucket is publicly readable."),
    RuleSpec("s3-bucket-level-public-access-prohibited", {}, Rule.AtLaunch.FIX, "Buckets block public access."),
    RuleSpec("s3-bucket-server-side-encryption-enabled", {}, Rule.AtLaunch.FIX, "Buckets encrypt at rest."),
    RuleSpec("config-recorder-recording", {}, Rule.AtLaunch.IGNORE, "The Config recorder records."),
    RuleSpec("allowed-regions", {}, Rule.AtLaunch.BLOCK, "Resources live only in their account's allowed regions."),
]

BUILTIN_POLICIES: list[PolicySpec] = [
    PolicySpec("open-ssh-revoke", "restricted-ssh", None,
               [{"action": "revoke_world_ingress", "details": {"ports": [22]}}, {"action": "notify", "details": {}}],
               "Port 22 open to the world is closed again at once."),
    PolicySpec("recorder-guard", None, "config-recorder-stopped",
               [{"action": "start_config_recorder", "details": {}}],
               "A stopped Config recorder is started again (by the name the event gave)."),
    PolicySpec("cloudtrail-guard", None, "cloudtrail-stopped", [{"action": "start_cloudtrail_logging", "details": {}}],
               "A trail that stops logging is started again."),
    PolicySpec("flow-logs-guard", None, "flow-logs-deleted",
               [{"action": "enable_vpc_flow_logs", "details": {}}, {"action": "notify", "details": {}}],
               "Deleted VPC flow logs are created again as they were (same destination and traffic)."),
    PolicySpec("world-ingress-revoke", None, "security-group-open-to-world",
               [{"action": "revoke_world_ingress", "details": {}}, {"action": "notify", "details": {}}],
               "Any ingress opened to the world is revoked (dry run: web ports may be meant to be public)."),
]


def rules_install(specs: Collection[RuleSpec] = tuple(BUILTIN_RULES)) -> dict[str, int]:
    """Add the rules that are missing; one an admin edited or disabled is left as it is."""
    added = 0
    for spec in specs:
        _, created = Rule.objects.get_or_create(name=spec.name, defaults={
            "kind": Rule.Kind.MANAGED, "source": spec.name, "parameters": spec.parameters,
            "at_launch": spec.at_launch, "description": spec.description})
        added += created
    return {"rules": added}


def policies_install(*, only: Collection[str] | None = None, mode: str = PolicyMode.DRY_RUN) -> dict[str, int]:
    """Add the built-in policies that are missing (`only`: those named), in `mode` — dry run unless a caller (the
    demo) says otherwise. The rules they act on must be installed first. An existing policy is left as it is."""
    unknown = set(only or ()) - {spec.name for spec in BUILTIN_POLICIES}
    if unknown:
        raise ValueError(f"no built-in policy named {', '.join(sorted(unknown))}")
    added = 0
    for spec in BUILTIN_POLICIES:
        if only is not None and spec.name not in only:
            continue
        _, created = Policy.objects.get_or_create(name=spec.name, defaults={
            "rule": Rule.objects.get(name=spec.rule) if spec.rule else None,
            "event_pattern": SEEDED_PATTERNS[spec.pattern] if spec.pattern else None, "actions": spec.actions,
            "mode": mode, "description": spec.description, "max_resources": 20})
        added += created
    return {"policies": added}
