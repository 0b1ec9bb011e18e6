"""Evaluating rules: on every new configuration item, and on a schedule for account-level rules.

A finding is one rule's verdict on one resource. Its status changes are kept (FindingChange), with first seen,
last seen and resolved times, so a fix never hides that a violation happened. Active exceptions mark findings
as excepted; they are still evaluated and counted as such.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import ConfigResource, ItemStatus, ResourceRelationship
from portal import aws
from portal.models import Account
from remediation.models import Compliance, Finding, FindingChange, Rule, RuleException
from remediation.rules.base import AccountView, Evaluation, ResourceView

log = logging.getLogger(__name__)
PLUGIN_GROUP = "guardrail.rules"
ACCOUNT_TYPE = "AWS::::Account"


class RuleUnavailable(ValueError):
    """The rule's implementation cannot be found (a plug-in not installed, a managed name unknown)."""


@lru_cache(maxsize=1)
def plugins() -> dict[str, Any]:
    """Python rules registered by entry point in the `guardrail.rules` group: name -> Rule object."""
    found = {}
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = entry.load()
            found[entry.name] = loaded() if isinstance(loaded, type) else loaded
        except Exception as exc:  # a broken plug-in must not stop the others
            log.warning("rule plug-in %s failed to load: %s", entry.name, exc)
    return found


def implementation(rule: Rule) -> Any:
    if rule.kind == Rule.Kind.MANAGED:
        from remediation.rules.managed import rule_by_name

        try:
            return rule_by_name(rule.source)
        except KeyError:
            raise RuleUnavailable(f"no managed rule named {rule.source}") from None
    if rule.kind == Rule.Kind.DECLARATIVE:
        from remediation.rules.declarative import compile_rule

        return compile_rule(rule.definition)
    if rule.source not in plugins():
        raise RuleUnavailable(f"no plug-in rule registered as {rule.source} in {PLUGIN_GROUP}")
    return plugins()[rule.source]


def _params(rule: Rule, impl: Any) -> dict[str, str]:
    if rule.kind != Rule.Kind.MANAGED:
        return dict(rule.parameters)
    from remediation.rules.managed import validate_params

    return validate_params(impl, {k: str(v) for k, v in rule.parameters.items()})


# --- what a rule sees ---

def account_context(account_id: str, *, credential_report: list[dict] | None = None) -> dict[str, Any]:
    account = Account.objects.filter(account_id=account_id).first()
    context: dict[str, Any] = {"allowed_regions": list(account.allowed_regions) if account else None}
    if credential_report is not None:
        context["credential_report"] = credential_report
    return context


def view_of(resource: ConfigResource, context: dict[str, Any]) -> ResourceView:
    outgoing = [(r["resourceType"], r["resourceId"]) for r in resource.relationships]
    incoming = list(ResourceRelationship.objects.filter(
        target_type=resource.resource_type, target_id=resource.resource_id,
        resource__account_id=resource.account_id).values_list("resource_id", flat=True))
    related_rows = ConfigResource.objects.filter(account_id=resource.account_id).exclude(status=ItemStatus.DELETED)
    query = Q(pk__in=incoming)
    for resource_type, resource_id in outgoing:
        query |= Q(resource_type=resource_type, resource_id=resource_id)
    related = [{"resource_type": r.resource_type, "resource_id": r.resource_id, "configuration": r.configuration,
                "tags": r.tags} for r in related_rows.filter(query)] if (incoming or outgoing) else []
    return ResourceView(resource.resource_type, resource.resource_id, resource.account_id, resource.region,
                        resource.configuration, resource.supplementary, resource.tags, resource.relationships,
                        related, context)


def credential_report(account: Account) -> list[dict[str, str]]:
    """IAM's credential report as rows (user, password_enabled, mfa_active ...), generated if need be."""
    iam = aws.client("iam", account_id=account.account_id, role_name=account.role_name or None,
                     session_name="guardrail-rules")
    for _ in range(10):
        if iam.generate_credential_report().get("State") == "COMPLETE":
            break
    content = iam.get_credential_report()["Content"]
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.DictReader(io.StringIO(text)))


# --- recording verdicts ---

def _exception_for(rule: Rule, *, account_id: str, resource_id: str, tags: dict[str, str], team_slug: str | None,
                   now: datetime) -> RuleException | None:
    candidates = RuleException.objects.filter(Q(rule=rule) | Q(rule__isnull=True), expires__gt=now)
    for exception in candidates:
        if exception.scope == RuleException.Scope.RESOURCE and exception.value == resource_id:
            return exception
        if exception.scope == RuleException.Scope.ACCOUNT and exception.value == account_id:
            return exception
        if exception.scope == RuleException.Scope.TEAM and team_slug and exception.value == team_slug:
            return exception
        if exception.scope == RuleException.Scope.TAG:
            key, _, value = exception.value.partition("=")
            if key in tags and (not value or tags[key] == value):
                return exception
    return None


def record(rule: Rule, evaluation: Evaluation, *, account_id: str, region: str, resource_type: str,
           resource_id: str, resource: ConfigResource | None = None, tags: dict[str, str] | None = None,
           now: datetime | None = None) -> Finding:
    """Store one verdict; a change of status is kept as a FindingChange (the timeline's compliance entry)."""
    now = now or timezone.now()
    account = Account.objects.filter(account_id=account_id).select_related("team").first()
    team = account.team if account else None
    exception = _exception_for(rule, account_id=account_id, resource_id=resource_id, tags=tags or {},
                               team_slug=team.slug if team else None, now=now)
    with transaction.atomic():
        finding, created = Finding.objects.select_for_update().get_or_create(
            rule=rule, account_id=account_id, region=region, resource_type=resource_type, resource_id=resource_id,
            defaults={"status": evaluation.status, "annotation": evaluation.annotation[:500], "since": now,
                      "evaluated": now, "config_resource": resource, "team": team})
        before = "" if created else finding.status
        if created or finding.status != evaluation.status:
            finding.since = now
            FindingChange.objects.create(finding=finding, time=now, before=before, after=evaluation.status,
                                         annotation=evaluation.annotation[:500],
                                         state_id=resource.state_id if resource else None)
        if evaluation.status == Compliance.NON_COMPLIANT:
            finding.first_seen = finding.first_seen or now
            finding.last_seen = now
        elif evaluation.status == Compliance.COMPLIANT and before == Compliance.NON_COMPLIANT:
            finding.resolved = now
        finding.status, finding.annotation, finding.evaluated = evaluation.status, evaluation.annotation[:500], now
        finding.excepted_by, finding.team, finding.config_resource = exception, team, resource
        finding.state_id = resource.state_id if resource else None
        finding.save()
        if resource is not None:
            _resource_compliance_update(resource)
    return finding


def _resource_compliance_update(resource: ConfigResource) -> None:
    """The resource's own compliance (GET /api/resources/): NON_COMPLIANT if any rule finds it so, unexcepted."""
    findings = Finding.objects.filter(config_resource=resource)
    now = timezone.now()
    if findings.filter(status=Compliance.NON_COMPLIANT).exclude(excepted_by__expires__gt=now).exists():
        value = Compliance.NON_COMPLIANT
    elif findings.filter(status__in=[Compliance.COMPLIANT, Compliance.NON_COMPLIANT]).exists():
        value = Compliance.COMPLIANT
    else:
        value = ""
    ConfigResource.objects.filter(pk=resource.pk).exclude(compliance=value).update(compliance=value)


def _applies(impl: Any, resource_type: str) -> bool:
    return not impl.periodic and resource_type in impl.resource_types or (
        not impl.periodic and not impl.resource_types)


def resources_evaluate(resource_ids: Iterable[int], *, rules: QuerySet[Rule] | None = None,
                       credential_reports: dict[str, list[dict]] | None = None) -> int:
    """Every enabled change-triggered rule on each resource; a deleted resource's findings become NOT_APPLICABLE."""
    rules = list((rules if rules is not None else Rule.objects.filter(enabled=True)))
    impls = []
    for rule in rules:
        try:
            impl = implementation(rule)
            impls.append((rule, impl, _params(rule, impl)))
        except ValueError as exc:
            log.warning("rule %s cannot run: %s", rule.name, exc)
    count = 0
    contexts: dict[str, dict] = {}
    for resource in ConfigResource.objects.filter(pk__in=list(resource_ids)):
        if resource.account_id not in contexts:
            contexts[resource.account_id] = account_context(
                resource.account_id, credential_report=(credential_reports or {}).get(resource.account_id))
        deleted = resource.status == ItemStatus.DELETED
        view = None if deleted else view_of(resource, contexts[resource.account_id])
        for rule, impl, params in impls:
            if not _applies(impl, resource.resource_type):
                continue
            evaluation = (Evaluation(Compliance.NOT_APPLICABLE, "The resource was deleted") if deleted
                          else impl.evaluate(view, params))
            if evaluation.status == Compliance.NOT_APPLICABLE and not Finding.objects.filter(
                    rule=rule, account_id=resource.account_id, resource_id=resource.resource_id).exists():
                continue  # nothing to say, nothing said before
            record(rule, evaluation, account_id=resource.account_id, region=resource.region,
                   resource_type=resource.resource_type, resource_id=resource.resource_id, resource=resource,
                   tags=resource.tags)
            count += 1
    return count


def accounts_evaluate(*, accounts: Iterable[Account] | None = None, fetch_reports: bool = True) -> int:
    """Account-level (periodic) rules on each account, and every resource again with the account's credential
    report in hand (the MFA rule reads it)."""
    count = 0
    rules = [(r, implementation(r)) for r in Rule.objects.filter(enabled=True) if _loadable(r)]
    for account in accounts if accounts is not None else Account.objects.all():
        report = None
        if fetch_reports:
            try:
                report = credential_report(account)
            except aws.AWS_ERRORS as exc:
                log.warning("credential report of %s: %s", account.account_id, aws.error_code(exc))
        context = account_context(account.account_id, credential_report=report)
        current = ConfigResource.objects.filter(account_id=account.account_id).exclude(status=ItemStatus.DELETED)
        by_type: dict[str, list[ResourceView]] = {}
        for resource in current:
            by_type.setdefault(resource.resource_type, []).append(view_of(resource, context))
        view = AccountView(account.account_id, list(account.allowed_regions), by_type, context)
        for rule, impl in rules:
            if impl.periodic:
                record(rule, impl.evaluate_account(view, _params(rule, impl)), account_id=account.account_id,
                       region="", resource_type=ACCOUNT_TYPE, resource_id=account.account_id)
                count += 1
        count += resources_evaluate(current.values_list("pk", flat=True),
                                    credential_reports={account.account_id: report} if report else None)
    return count


def _loadable(rule: Rule) -> bool:
    try:
        implementation(rule)
        return True
    except ValueError:
        return False
