"""The demo's rules and policies: the built-ins (remediation/builtin.py), the rules that need the organisation's
choices with the demo's, and four built-in policies enforcing (idempotent)."""

from remediation.builtin import BUILTIN_RULES, RuleSpec, policies_install, rules_install
from remediation.models import PolicyMode, Rule

DEMO_RULES = [
    RuleSpec("vpc-sg-open-only-to-authorized-ports", {"authorizedTcpPorts": "80,443"}, Rule.AtLaunch.IGNORE,
             "Only web ports may be open to the world."),
    RuleSpec("required-tags", {"tag1Key": "cost-center"}, Rule.AtLaunch.FIX,
             "Every taggable resource carries a cost-center."),
    RuleSpec("desired-instance-type", {"instanceType": "t3.micro,t3.small,t3.medium"}, Rule.AtLaunch.BLOCK,
             "Instances are of the approved sizes."),
]

# The demo shows remediation at work: these built-in policies enforce there (a portal set up by `setup` has every
# policy in dry run until an admin decides).
DEMO_ENFORCED = ("open-ssh-revoke", "recorder-guard", "cloudtrail-guard", "flow-logs-guard")


def rules_demo_seed() -> dict[str, int]:
    """The built-in rules and the demo's own."""
    return rules_install([*BUILTIN_RULES, *DEMO_RULES])


def demo_rules_seed() -> dict[str, int]:
    """The demo's own rules only (the built-in ones are a part of their own)."""
    return rules_install(DEMO_RULES)


def demo_policies_enforced_seed() -> dict[str, int]:
    """The built-in policies the demo enforces, installed enforcing before the built-in part adds the rest."""
    return policies_install(only=DEMO_ENFORCED, mode=PolicyMode.ENFORCE)


def policies_demo_seed() -> dict[str, int]:
    """Every built-in policy as the demo has it: four enforcing, the rest in dry run."""
    enforced = demo_policies_enforced_seed()["policies"]
    return {"policies": enforced + policies_install()["policies"]}
