"""The demo's rules: the managed library with the parameters the demo accounts need (idempotent)."""

from remediation.models import Policy, Rule
from remediation.seeded_patterns import SEEDED_PATTERNS

DEMO_RULES = [
    ("restricted-ssh", {}, Rule.AtLaunch.BLOCK, "No security group lets the world reach port 22."),
    ("restricted-common-ports", {}, Rule.AtLaunch.BLOCK, "No security group opens 20, 21, 3389, 3306, 4333 to the world."),
    ("vpc-sg-open-only-to-authorized-ports", {"authorizedTcpPorts": "80,443"}, Rule.AtLaunch.IGNORE,
     "Only web ports may be open to the world."),
    ("required-tags", {"tag1Key": "cost-center"}, Rule.AtLaunch.FIX, "Every taggable resource carries a cost-center."),
    ("desired-instance-type", {"instanceType": "t3.micro,t3.small,t3.medium"}, Rule.AtLaunch.BLOCK,
     "Instances are of the approved sizes."),
    ("cloudtrail-enabled", {}, Rule.AtLaunch.IGNORE, "CloudTrail logs in every account."),
    ("multi-region-cloudtrail-enabled", {}, Rule.AtLaunch.IGNORE, "A multi-region trail records management events."),
    ("mfa-enabled-for-iam-console-access", {}, Rule.AtLaunch.IGNORE, "Console users have MFA."),
    ("root-account-mfa-enabled", {}, Rule.AtLaunch.IGNORE, "The root user has MFA."),
    ("vpc-flow-logs-enabled", {}, Rule.AtLaunch.IGNORE, "Every VPC has flow logs."),
    ("s3-bucket-public-read-prohibited", {}, Rule.AtLaunch.FIX, "No bucket is publicly readable."),
    ("s3-bucket-level-public-access-prohibited", {}, Rule.AtLaunch.FIX, "Buckets block public access."),
    ("s3-bucket-server-side-encryption-enabled", {}, Rule.AtLaunch.FIX, "Buckets encrypt at rest."),
    ("config-recorder-recording", {}, Rule.AtLaunch.IGNORE, "The Config recorder records."),
    ("allowed-regions", {}, Rule.AtLaunch.BLOCK, "Resources live only in their account's allowed regions."),
]


DEMO_POLICIES = [
    ("open-ssh-revoke", "restricted-ssh", None,
     [{"action": "revoke_world_ingress", "details": {"ports": [22]}}, {"action": "notify", "details": {}}],
     "enforce", "Port 22 open to the world is closed again at once."),
    ("recorder-guard", None, "config-recorder-stopped", [{"action": "start_config_recorder", "details": {}}],
     "enforce", "A stopped Config recorder is started again (by the name the event gave)."),
    ("cloudtrail-guard", None, "cloudtrail-stopped", [{"action": "start_cloudtrail_logging", "details": {}}],
     "enforce", "A trail that stops logging is started again."),
    ("flow-logs-guard", None, "flow-logs-deleted", [{"action": "enable_vpc_flow_logs", "details": {}},
                                                   {"action": "notify", "details": {}}],
     "enforce", "Deleted VPC flow logs are created again as they were (same destination and traffic)."),
    ("world-ingress-revoke", None, "security-group-open-to-world",
     [{"action": "revoke_world_ingress", "details": {}}, {"action": "notify", "details": {}}],
     "dry_run", "Any ingress opened to the world is revoked (dry run: web ports may be meant to be public)."),
]


def policies_demo_seed() -> dict[str, int]:
    added = 0
    for name, rule, pattern, actions, mode, description in DEMO_POLICIES:
        _, created = Policy.objects.get_or_create(name=name, defaults={
            "rule": Rule.objects.filter(name=rule).first() if rule else None,
            "event_pattern": SEEDED_PATTERNS[pattern] if pattern else None, "actions": actions,
            "mode": mode, "description": description, "max_resources": 20})
        added += created
    return {"policies": added}


def rules_demo_seed() -> dict[str, int]:
    added = 0
    for name, parameters, at_launch, description in DEMO_RULES:
        _, created = Rule.objects.get_or_create(name=name, defaults={
            "kind": Rule.Kind.MANAGED, "source": name, "parameters": parameters, "at_launch": at_launch,
            "description": description})
        added += created
    return {"rules": added}
