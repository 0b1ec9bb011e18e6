"""Setting up the sandbox accounts the way a real landing zone would be: through the account kit, as a user does.

For every account (the management account and each portal Account), acting as the sandbox's operator (IAM
user sandbox-operator in the management account, which reaches each member account through the
OrganizationAccountAccessRole that AWS Organizations gives it; sandbox.organization makes each member first): the
member kit's stack `guardrail-member-account` (deploy/aws/guardrail-member-account.yaml: the roles GuardrailPortal,
GuardrailRemediation and GuardrailLaunch with its boundary, the CloudTrail bucket with its policy, the SQS queue
that hears about each new log file and its policy, the bucket's notification, the multi-region trail, logging),
created through the sandbox's CloudFormation; in the management account also the management kit's stack
`guardrail-management-account`. Then Config's bucket, delivery channel and recorder (started), and an IAM user per
person. Every step checks first: a stack is updated only when its template or parameters changed, so running it
twice against the same sandbox creates nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from portal import aws
from portal.models import Account
from sandbox.operator import operator_credentials
from sandbox.organization import ensure_member_account
from sandbox.people import Person, ensure_iam_user, person_of

# What the member kit names (deploy/aws/guardrail-member-account.yaml)
LAUNCH_ROLE_NAME = "GuardrailLaunch"
TRAIL_NAME = "guardrail-trail"
QUEUE_NAME = "guardrail-cloudtrail"
RECORDER_NAME = "guardrail-recorder"
DELIVERY_CHANNEL_NAME = "guardrail-delivery"
KIT_DIR = Path(settings.BASE_DIR) / "deploy" / "aws"
MEMBER_STACK = "guardrail-member-account"
MANAGEMENT_STACK = "guardrail-management-account"
SANDBOX_EXTERNAL_ID = "guardrail-sandbox"
DIGEST_TAG = "guardrail:kit-digest"  # what the stack was last made from: its template and parameters
_STACK_DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})


def trail_bucket(account_id: str) -> str:
    return f"guardrail-cloudtrail-{account_id}"


def config_bucket(account_id: str) -> str:
    return f"guardrail-config-{account_id}"


@dataclass
class BootstrapSummary:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    title: str = "Bootstrap"

    def note(self, created: bool, what: str) -> None:
        (self.created if created else self.existing).append(what)

    def lines(self) -> list[str]:
        out = [f"{self.title}: {len(self.created)} created, {len(self.existing)} already there."]
        out += [f"  created  {item}" for item in self.created]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    role_name: str
    regions: tuple[str, ...] = ()  # where the Config recorder runs; the default region when empty
    name: str = ""  # the portal's name for the account
    team: str = ""  # its team's slug
    owner: str = ""  # an email of someone in that team


def _missing(call: Any, codes: tuple[str, ...], **kwargs: Any) -> bool:
    try:
        call(**kwargs)
        return False
    except aws.ClientError as exc:
        if aws.error_code(exc) in codes:
            return True
        raise


def _ensure_bucket(s3: Any, bucket: str, summary: BootstrapSummary, acct: str) -> None:
    created = _missing(s3.head_bucket, ("404", "NoSuchBucket", "NotFound"), Bucket=bucket)
    if created:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if settings.AWS_DEFAULT_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_DEFAULT_REGION}
        s3.create_bucket(**kwargs)
    summary.note(created, f"{acct} S3 bucket {bucket}")


def portal_principal_arn() -> str:
    """The one principal the kit's roles trust: the portal's own user (or role)."""
    return (settings.AWS_PORTAL_PRINCIPAL_ARN
            or f"arn:aws:iam::{settings.AWS_MANAGEMENT_ACCOUNT_ID}:user/guardrail-portal")


def member_parameters() -> dict[str, str]:
    """Every account forwards its API calls to the management account's event bus (the real-time path)."""
    return {"PortalPrincipalArn": portal_principal_arn(),
            "ExternalId": settings.AWS_EXTERNAL_ID or SANDBOX_EXTERNAL_ID, "TrailMode": "Create",
            "ManagementAccountId": settings.AWS_MANAGEMENT_ACCOUNT_ID, "HomeRegion": settings.AWS_DEFAULT_REGION}


def management_parameters(organization_id: str) -> dict[str, str]:
    """The management kit attaches GuardrailPortalAssume to the portal's user or role, when it lives there; its
    event bus takes the events of the organisation's accounts."""
    principal = portal_principal_arn()
    _, _, _, _, account, resource = (principal.split(":", 5) + [""] * 6)[:6]
    kind, _, name = resource.partition("/")
    here = account == settings.AWS_MANAGEMENT_ACCOUNT_ID
    return {"PortalPrincipalArn": principal, "ExternalId": settings.AWS_EXTERNAL_ID or SANDBOX_EXTERNAL_ID,
            "PortalUserName": name.rsplit("/", 1)[-1] if here and kind == "user" else "",
            "PortalRoleName": name.rsplit("/", 1)[-1] if here and kind == "role" else "",
            "OrganizationId": organization_id}


def organization_id(organizations: Any) -> str:
    """The management account's organisation (made now if there is none yet: the first member makes it anyway)."""
    try:
        return organizations.describe_organization()["Organization"]["Id"]
    except aws.ClientError as exc:
        if aws.error_code(exc) != "AWSOrganizationsNotInUseException":
            raise
    return organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]


def _digest(template: str, parameters: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps([template, sorted(parameters.items())]).encode()).hexdigest()


def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except aws.ClientError as exc:
        if aws.error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise


def _wait(cfn: Any, name: str, waiter: str) -> None:
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 450})
    except Exception as exc:  # botocore's WaiterError: the stack failed; say why
        stack = _stack(cfn, name) or {}
        reasons = [e.get("ResourceStatusReason", "") for e in
                   cfn.describe_stack_events(StackName=name)["StackEvents"] if "FAILED" in e["ResourceStatus"]]
        raise RuntimeError(f"Stack {name}: {stack.get('StackStatus', 'gone')} {reasons[:1]}") from exc


def ensure_kit_stack(cfn: Any, name: str, template_file: str, parameters: dict[str, str],
                     summary: BootstrapSummary, acct: str) -> None:
    """Create the kit's stack, update it when its template or parameters changed, else leave it."""
    template = (KIT_DIR / template_file).read_text()
    digest = _digest(template, parameters)
    arguments = {"StackName": name, "TemplateBody": template, "Capabilities": ["CAPABILITY_NAMED_IAM"],
                 "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                 "Tags": [{"Key": DIGEST_TAG, "Value": digest}]}
    stack = _stack(cfn, name)
    what = f"{acct} CloudFormation stack {name} (deploy/aws/{template_file})"
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":  # a failed create: AWS only deletes it
        cfn.delete_stack(StackName=name)
        _wait(cfn, name, "stack_delete_complete")
        stack = None
    if stack is None:
        cfn.create_stack(**arguments)
        _wait(cfn, name, "stack_create_complete")
        summary.note(True, what)
        return
    tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
    if stack["StackStatus"] in _STACK_DONE and tags.get(DIGEST_TAG) == digest:
        summary.note(False, what)
        return
    try:
        cfn.update_stack(**arguments)
    except aws.ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
        summary.note(False, what)
        return
    _wait(cfn, name, "stack_update_complete")
    summary.note(True, f"{what} updated")


def _ensure_config(config: Any, summary: BootstrapSummary, acct: str) -> None:
    recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
    if not recorders:  # one recorder per region: keep one that someone else made
        config.put_configuration_recorder(ConfigurationRecorder={
            "name": RECORDER_NAME,
            "roleARN": f"arn:aws:iam::{acct}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        })
    recorder = recorders[0]["name"] if recorders else RECORDER_NAME
    summary.note(not recorders, f"{acct} {config.meta.region_name} Config recorder {recorder}")
    channels = config.describe_delivery_channels()["DeliveryChannels"]
    if not channels:
        config.put_delivery_channel(DeliveryChannel={"name": DELIVERY_CHANNEL_NAME,
                                                     "s3BucketName": config_bucket(acct)})
    summary.note(not channels, f"{acct} {config.meta.region_name} Config delivery channel to {config_bucket(acct)}")
    status = config.describe_configuration_recorder_status(ConfigurationRecorderNames=[recorder])
    recording = any(s.get("recording") for s in status["ConfigurationRecordersStatus"])
    if not recording:
        config.start_configuration_recorder(ConfigurationRecorderName=recorder)
    summary.note(not recording, f"{acct} {config.meta.region_name} Config recorder {recorder} started")


class _Clients:
    """One client per (account, service) for a whole run, acting as the operator: itself in the management
    account, its OrganizationAccountAccessRole session in a member account (as a platform team deploys the kit).
    `roles` (the portal role of each account) is kept for callers that still pass it."""

    def __init__(self, roles: dict[str, str] | None = None) -> None:
        self.roles = roles or {}
        self._made: dict[tuple[str, str, str], Any] = {}
        self._sessions: dict[str, dict[str, str]] = {}

    def _credentials(self, account_id: str) -> dict[str, str]:
        if account_id not in self._sessions:
            self._sessions[account_id] = operator_credentials(account_id)
        return self._sessions[account_id]

    def __call__(self, account_id: str, service: str, region: str | None = None) -> Any:
        key = (account_id, service, region or settings.AWS_DEFAULT_REGION)
        if key not in self._made:
            self._made[key] = aws.client(service, region=key[2], **self._credentials(account_id))
        return self._made[key]


def ensure_member(spec: AccountSpec, summary: BootstrapSummary) -> None:
    """A member account of the organisation, with its OrganizationAccountAccessRole (in moto, in-process)."""
    if spec.account_id == settings.AWS_MANAGEMENT_ACCOUNT_ID:
        return
    name = spec.name or spec.account_id
    member = ensure_member_account(spec.account_id, name, f"aws+{name}@example.com",
                                   management_account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
                                   region=settings.AWS_DEFAULT_REGION)
    for what in member.created:
        summary.note(True, what)
    for what in member.existing:
        summary.note(False, what)


def deploy_kit(spec: AccountSpec, summary: BootstrapSummary, clients: _Clients | None = None) -> _Clients:
    """The account a member of the organisation, with the kit's stacks (the member kit's; in the management
    account the management kit's too); nothing else. Returns the clients it used."""
    acct = spec.account_id
    ensure_member(spec, summary)
    clients = clients or _Clients({acct: spec.role_name})
    cfn = clients(acct, "cloudformation")
    ensure_kit_stack(cfn, MEMBER_STACK, f"{MEMBER_STACK}.yaml", member_parameters(), summary, acct)
    if acct == settings.AWS_MANAGEMENT_ACCOUNT_ID:
        ensure_kit_stack(cfn, MANAGEMENT_STACK, f"{MANAGEMENT_STACK}.yaml",
                         management_parameters(organization_id(clients(acct, "organizations"))), summary, acct)
    return clients


def bootstrap_account(spec: AccountSpec, summary: BootstrapSummary, clients: _Clients | None = None) -> None:
    acct = spec.account_id
    clients = deploy_kit(spec, summary, clients)
    # AWS Config is the account's own (the portal only reads it): not the kit's
    _ensure_bucket(clients(acct, "s3"), config_bucket(acct), summary, acct)
    for region in spec.regions or (settings.AWS_DEFAULT_REGION,):
        _ensure_config(clients(acct, "config", region), summary, acct)


def setup_member_account(account_id: str, name: str, team: str) -> tuple[list[str], list[str]]:
    """What the sandbox's control endpoint runs for a new member account (what a StackSet does in AWS): the
    account's kit, today this bootstrap. Returns (created, existing) lines."""
    summary = BootstrapSummary()
    bootstrap_account(AccountSpec(account_id, settings.AWS_PORTAL_ROLE_NAME, name=name, team=team), summary)
    return summary.created, summary.existing


def bootstrap_people(people: Iterable[Person], summary: BootstrapSummary, clients: _Clients) -> None:
    for person in people:
        for acct in person.account_ids:
            created = ensure_iam_user(clients(acct, "iam"), person.username, person.role)
            summary.note(created, f"{acct} IAM user {person.username} ({person.role})")


def bootstrap(accounts: Iterable[AccountSpec], people: Iterable[Person] = ()) -> BootstrapSummary:
    """Set up these accounts, then these people's IAM users, in the sandbox; safe to run again."""
    summary = BootstrapSummary()
    specs = {spec.account_id: spec for spec in accounts}
    clients = _Clients({acct: spec.role_name for acct, spec in specs.items()})
    for spec in specs.values():
        bootstrap_account(spec, summary, clients)
    bootstrap_people(people, summary, clients)
    return summary


def _spec(account: Account, regions: tuple[str, ...]) -> AccountSpec:
    member = account.team.members.exclude(email="").order_by("username").first()
    return AccountSpec(account.account_id, account.portal_role_name, regions, name=account.name,
                       team=account.team.slug, owner=member.email if member else "")


def portal_accounts() -> list[AccountSpec]:
    """The management account first, then every portal Account."""
    accounts = Account.objects.select_related("team")
    management = accounts.filter(account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID).first()
    specs = [_spec(management, ()) if management else
             AccountSpec(settings.AWS_MANAGEMENT_ACCOUNT_ID, settings.AWS_PORTAL_ROLE_NAME)]
    for account in accounts.order_by("name"):
        if account.account_id != settings.AWS_MANAGEMENT_ACCOUNT_ID:
            specs.append(_spec(account, tuple(account.allowed_regions)))
    return specs


def portal_people() -> list[Person]:
    people = []
    for user in get_user_model().objects.filter(is_active=True).order_by("username"):
        person = person_of(user)
        if person is not None and person.account_ids:
            people.append(person)
    return people


def bootstrap_from_portal() -> BootstrapSummary:
    """Bootstrap every account and person the portal's database knows."""
    return bootstrap(portal_accounts(), portal_people())
