"""Evaluating rules: on every new configuration item, and on a schedule for account-level rules.

A finding is one rule's verdict on one resource. Its status changes are kept (FindingChange), with first seen,
last seen and resolved times, so a fix never hides that a violation happened. Active exceptions mark findings
as excepted; they are still evaluated and counted as such.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import ConfigResource, ItemStatus, ResourceRelationship
from portal import aws, queue
from portal.models import Account
from remediation.models import Compliance, Finding, FindingChange, Rule, RuleException
from remediation.rules.base import AccountView, Evaluation, ResourceView
from remediation.rules.declarative import compile_rule
from remediation.rules.managed import rule_by_name, validate_params

log = logging.getLogger(__name__)
EVALUATE_BATCH = 500  # resources per evaluation of a rule over everything
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
        try:
            return rule_by_name(rule.source)
        except KeyError:
            raise RuleUnavailable(f"no managed rule named {rule.source}") from None
    if rule.kind == Rule.Kind.DECLARATIVE:
        return compile_rule(rule.definition)
    if rule.source not in plugins():
        raise RuleUnavailable(f"no plug-in rule registered as {rule.source} in {PLUGIN_GROUP}")
    return plugins()[rule.source]


def _params(rule: Rule, impl: Any) -> dict[str, str]:
    if rule.kind != Rule.Kind.MANAGED:
        return dict(rule.parameters)

    return validate_params(impl, {k: str(v) for k, v in rule.parameters.items()})


# --- what a rule sees ---

def account_context(account_id: str, *, credential_report: list[dict] | None = None) -> dict[str, Any]:
    account = Account.objects.filter(account_id=account_id).first()
    context: dict[str, Any] = {"allowed_regions": list(account.allowed_regions) if account else None}
    if credential_report is not None:
        context["credential_report"] = credential_report
    return context


class _Related(Sequence):
    """The resources related to one resource, both directions, loaded only if a rule looks (few do)."""

    def __init__(self, resource: ConfigResource) -> None:
        self.resource = resource
        self._rows: list[dict[str, Any]] | None = None

    def _load(self) -> list[dict[str, Any]]:
        if self._rows is None:
            resource = self.resource
            outgoing = [(r["resourceType"], r["resourceId"]) for r in resource.relationships]
            incoming = ResourceRelationship.objects.filter(
                target_type=resource.resource_type, target_id=resource.resource_id,
                resource__account_id=resource.account_id).values("resource_id")
            query = Q(pk__in=incoming)
            for resource_type, resource_id in outgoing:
                query |= Q(resource_type=resource_type, resource_id=resource_id)
            rows = ConfigResource.objects.filter(query, account_id=resource.account_id).exclude(
                status=ItemStatus.DELETED)
            self._rows = [{"resource_type": r.resource_type, "resource_id": r.resource_id,
                           "configuration": r.configuration, "tags": r.tags} for r in rows]
        return self._rows

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())


def view_of(resource: ConfigResource, context: dict[str, Any]) -> ResourceView:
    return ResourceView(resource.resource_type, resource.resource_id, resource.account_id, resource.region,
                        resource.configuration, resource.supplementary, resource.tags, resource.relationships,
                        _Related(resource), context)  # type: ignore[arg-type]


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

def exception_matching(exceptions: Iterable[RuleException], *, rule_id: int | None, account_id: str,
                       team_slug: str | None, resource_id: str, tags: dict[str, str]) -> RuleException | None:
    """The first of `exceptions` that covers this rule's verdict on this resource (the caller picks the active ones)."""
    for exception in exceptions:
        if exception.rule_id not in (None, rule_id):
            continue
        scope, value = exception.scope, exception.value
        if (scope == RuleException.Scope.RESOURCE and value == resource_id
                or scope == RuleException.Scope.ACCOUNT and value == account_id
                or scope == RuleException.Scope.TEAM and team_slug and value == team_slug):
            return exception
        if scope == RuleException.Scope.TAG:
            key, _, wanted = value.partition("=")
            if key in tags and (not wanted or tags[key] == wanted):
                return exception
    return None


class _Verdicts:
    """Stores verdicts for one evaluation run: accounts, teams and active exceptions are read once, and a finding
    whose verdict did not change costs no write but its `evaluated` time (one UPDATE per batch)."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.accounts = {a.account_id: a for a in Account.objects.select_related("team")}
        self.exceptions = list(RuleException.objects.filter(expires__gt=self.now))
        self.untouched: list[int] = []
        self.still_violating: list[int] = []
        self.new: list[tuple[Finding, dict[str, Any]]] = []  # first verdicts, written together at flush
        self.violations: list[int] = []  # findings that just became NON_COMPLIANT: the policies look at them

    def exception_for(self, rule: Rule, *, account_id: str, resource_id: str, tags: dict[str, str]
                      ) -> RuleException | None:
        account = self.accounts.get(account_id)
        return exception_matching(self.exceptions, rule_id=rule.pk, account_id=account_id,
                                  team_slug=account.team.slug if account else None, resource_id=resource_id, tags=tags)

    def record(self, rule: Rule, evaluation: Evaluation, *, account_id: str, region: str, resource_type: str,
               resource_id: str, resource: ConfigResource | None = None, tags: dict[str, str] | None = None,
               finding: Finding | None = None, fresh: bool = False) -> bool:
        """Store one verdict (`finding`: the existing one, when the caller has it; `fresh`: the caller knows there
        is none, so it is written with the batch's others at flush); True if anything changed."""
        exception = self.exception_for(rule, account_id=account_id, resource_id=resource_id, tags=tags or {})
        state_id = resource.state_id if resource else None
        annotation = evaluation.annotation[:500]
        if finding is not None and (finding.status, finding.annotation, finding.excepted_by_id, finding.state_id) == (
                evaluation.status, annotation, exception.pk if exception else None, state_id):
            (self.still_violating if evaluation.status == Compliance.NON_COMPLIANT else self.untouched).append(finding.pk)
            return False
        account = self.accounts.get(account_id)
        team = account.team if account else None
        now = self.now
        if fresh:
            violating = evaluation.status == Compliance.NON_COMPLIANT
            self.new.append((Finding(
                rule=rule, account_id=account_id, region=region, resource_type=resource_type, resource_id=resource_id,
                team=team, status=evaluation.status, annotation=annotation, excepted_by=exception, since=now,
                first_seen=now if violating else None, last_seen=now if violating else None, evaluated=now,
                config_resource=resource, state_id=state_id), {"rule": rule, "evaluation": evaluation,
                "account_id": account_id, "region": region, "resource_type": resource_type,
                "resource_id": resource_id, "resource": resource, "tags": tags}))
            return True
        with transaction.atomic():
            finding, created = Finding.objects.select_for_update().get_or_create(
                rule=rule, account_id=account_id, region=region, resource_type=resource_type,
                resource_id=resource_id, defaults={"status": evaluation.status, "annotation": annotation,
                                                   "since": now, "evaluated": now, "config_resource": resource,
                                                   "team": team})
            before = "" if created else finding.status
            if created or finding.status != evaluation.status:
                finding.since = now
                FindingChange.objects.create(finding=finding, time=now, before=before, after=evaluation.status,
                                             annotation=annotation, state_id=state_id)
            if evaluation.status == Compliance.NON_COMPLIANT:
                finding.first_seen = finding.first_seen or now
                finding.last_seen = now
            elif evaluation.status == Compliance.COMPLIANT and before == Compliance.NON_COMPLIANT:
                finding.resolved = now
            finding.status, finding.annotation, finding.evaluated = evaluation.status, annotation, now
            finding.excepted_by, finding.team, finding.config_resource = exception, team, resource
            finding.state_id = state_id
            finding.save()
        if evaluation.status == Compliance.NON_COMPLIANT and before != Compliance.NON_COMPLIANT:
            self.violations.append(finding.pk)
        return True

    def _write_new(self) -> None:
        new, self.new = self.new, []
        if not new:
            return
        try:
            with transaction.atomic():
                created = Finding.objects.bulk_create([finding for finding, _ in new])
                FindingChange.objects.bulk_create([
                    FindingChange(finding=f, time=self.now, before="", after=f.status, annotation=f.annotation,
                                  state_id=f.state_id) for f in created])
        except IntegrityError:  # another worker wrote some of them meanwhile: one at a time, as usual
            for _, args in new:
                self.record(finding=None, **args)
            return
        self.violations += [f.pk for f in created if f.status == Compliance.NON_COMPLIANT]

    def flush(self) -> None:
        self._write_new()
        for start in range(0, len(self.untouched), 1000):
            Finding.objects.filter(pk__in=self.untouched[start:start + 1000]).update(evaluated=self.now)
        for start in range(0, len(self.still_violating), 1000):
            Finding.objects.filter(pk__in=self.still_violating[start:start + 1000]).update(
                evaluated=self.now, last_seen=self.now)
        self.untouched, self.still_violating = [], []
        if self.violations:
            found, self.violations = list(self.violations), []
            queue.enqueue("remediation.tasks.remediate_findings", found)


def record(rule: Rule, evaluation: Evaluation, **subject: Any) -> Finding:
    """Store one verdict on its own (account-level rules, tests); batches go through `_Verdicts`."""
    verdicts = _Verdicts()
    verdicts.record(rule, evaluation, finding=None, **subject)
    verdicts.flush()
    resource = subject.get("resource")
    if resource is not None:
        _resource_compliance_update(resource)
    return Finding.objects.get(rule=rule, account_id=subject["account_id"], region=subject["region"],
                               resource_type=subject["resource_type"], resource_id=subject["resource_id"])


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
    return not impl.periodic and (not impl.resource_types or resource_type in impl.resource_types)


def _runnable(rules: Iterable[Rule]) -> list[tuple[Rule, Any, dict[str, str]]]:
    out = []
    for rule in rules:
        try:
            impl = implementation(rule)
            out.append((rule, impl, _params(rule, impl)))
        except ValueError as exc:
            log.warning("rule %s cannot run: %s", rule.name, exc)
    return out


def resources_evaluate(resource_ids: Iterable[int], *, rules: QuerySet[Rule] | None = None,
                       credential_reports: dict[str, list[dict]] | None = None, batch: int = 500) -> int:
    """Every enabled change-triggered rule on each resource; a deleted resource's findings become NOT_APPLICABLE.
    Returns how many findings changed."""
    impls = _runnable(rules if rules is not None else Rule.objects.filter(enabled=True))
    verdicts = _Verdicts()
    contexts: dict[str, dict] = {}
    ids = list(resource_ids)
    changed = 0
    for start in range(0, len(ids), batch):
        resources = list(ConfigResource.objects.filter(pk__in=ids[start:start + batch]))
        existing: dict[tuple, Finding] = {}
        touched: list[ConfigResource] = []
        for finding in Finding.objects.filter(config_resource__in=resources, rule__in=[r for r, _, _ in impls]):
            existing[(finding.rule_id, finding.config_resource_id)] = finding
        for resource in resources:
            if resource.account_id not in contexts:
                contexts[resource.account_id] = account_context(
                    resource.account_id, credential_report=(credential_reports or {}).get(resource.account_id))
            deleted = resource.status == ItemStatus.DELETED
            view = None if deleted else view_of(resource, contexts[resource.account_id])
            for rule, impl, params in impls:
                if not _applies(impl, resource.resource_type):
                    continue
                finding = existing.get((rule.pk, resource.pk))
                evaluation = (Evaluation(Compliance.NOT_APPLICABLE, "The resource was deleted") if deleted
                              else impl.evaluate(view, params))
                if evaluation.status == Compliance.NOT_APPLICABLE and finding is None:
                    continue  # nothing to say, nothing said before
                if verdicts.record(rule, evaluation, account_id=resource.account_id, region=resource.region,
                                   resource_type=resource.resource_type, resource_id=resource.resource_id,
                                   resource=resource, tags=resource.tags, finding=finding, fresh=finding is None):
                    changed += 1
                    touched.append(resource)
        verdicts.flush()
        for resource in {r.pk: r for r in touched}.values():
            _resource_compliance_update(resource)
    return changed


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


def rule_evaluate_everywhere(rule_id: int | None, *, batch: int = EVALUATE_BATCH) -> int:
    """A new or changed rule (None: every rule, after an exception changed) over every current resource."""
    rules = Rule.objects.filter(enabled=True)
    if rule_id is not None:
        rules = rules.filter(pk=rule_id)
    ids = list(ConfigResource.objects.exclude(status=ItemStatus.DELETED).values_list("pk", flat=True))
    return sum(resources_evaluate(ids[i:i + batch], rules=rules) for i in range(0, len(ids), batch))
