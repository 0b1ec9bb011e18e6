"""Guardrails at creation: the rules run on the resources a launch's template would create, before it is created.

A NON_COMPLIANT result blocks the launch with the rule's annotation. For rules an admin set to FIX, where a
secure default exists (encryption, public access block, missing tags), the template is changed instead and the
launch says so plainly; what a fix cannot put right still blocks.
"""

from __future__ import annotations

from typing import Any

from catalog.launch_checks import LaunchVerdict
from remediation.compliance import _params, account_context, implementation
from remediation.models import Compliance, Rule
from remediation.rules.template_resources import resources_from_template, secure_defaults

# Which secure default puts right what a rule flags.
FIX_FOR_RULE = {
    "s3-bucket-server-side-encryption-enabled": "encryption",
    "s3-bucket-public-read-prohibited": "public_access_block",
    "s3-bucket-level-public-access-prohibited": "public_access_block",
    "required-tags": "tags",
}


def _fix_kind(rule: Rule) -> str | None:
    return FIX_FOR_RULE.get(rule.source if rule.kind == Rule.Kind.MANAGED else "")


def _violations(rules: list[tuple[Rule, Any, dict]], template: dict, parameters: dict, tags: dict, account_id: str,
                region: str) -> list[tuple[Rule, Any, str]]:
    context = account_context(account_id)
    views = resources_from_template(template, parameters, account_id=account_id, region=region, tags=tags)
    found = []
    for view in views:
        view.context = {**context, **view.context}
        for rule, impl, params in rules:
            if impl.periodic or (impl.resource_types and view.resource_type not in impl.resource_types):
                continue
            verdict = impl.evaluate(view, params)
            if verdict.status == Compliance.NON_COMPLIANT:
                found.append((rule, view, verdict.annotation))
    return found


def launch_guardrails(*, template: dict[str, Any], parameters: dict[str, str], tags: dict[str, str],
                      account_id: str, region: str) -> LaunchVerdict:
    rules = []
    for rule in Rule.objects.filter(enabled=True).exclude(at_launch=Rule.AtLaunch.IGNORE):
        try:
            impl = implementation(rule)
            rules.append((rule, impl, _params(rule, impl)))
        except ValueError:
            continue
    found = _violations(rules, template, parameters, tags, account_id, region)
    fixes = {_fix_kind(rule) for rule, _, _ in found if rule.at_launch == Rule.AtLaunch.FIX and _fix_kind(rule)}
    verdict = LaunchVerdict()
    if fixes:
        template, lines = secure_defaults(template, fixes, tags=tags)
        verdict.template, verdict.fixes = template, lines
        found = _violations(rules, template, parameters, tags, account_id, region)
    verdict.blocked = [f"{rule.name} on {view.context.get('logical_id', view.resource_id)}: {annotation}"
                       for rule, view, annotation in found]
    return verdict
