"""Setting up the sandbox accounts the way a real landing zone would be, through the portal's own AWS boundary.

For every account (the management account and each portal Account), acting as its GuardrailPortal role:
the roles GuardrailPortal and GuardrailLaunch, the CloudTrail bucket with its policy, the SQS queue that
hears about each new log file, the multi-region trail (started), Config's bucket, delivery channel and
recorder (started); then an IAM user per person. Every step checks first, so running it twice against
the same sandbox creates nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from portal import aws
from portal.models import Account
from sandbox.people import Person, ensure_iam_user, person_of

LAUNCH_ROLE_NAME = "GuardrailLaunch"
TRAIL_NAME = "guardrail-trail"
QUEUE_NAME = "guardrail-cloudtrail"
RECORDER_NAME = "guardrail-recorder"
DELIVERY_CHANNEL_NAME = "guardrail-delivery"
NOTIFICATION_ID = "guardrail-cloudtrail-files"
ADMIN_POLICY_NAME = "guardrail-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


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


def _trust(principal: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def _ensure_role(iam: Any, name: str, principal: dict[str, Any], summary: BootstrapSummary, acct: str) -> None:
    created = _missing(iam.get_role, ("NoSuchEntity",), RoleName=name)
    if created:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(principal),
                        Description="Created by the Guardrail sandbox bootstrap.")
    # Inline: moto only knows AWS managed policies when told to load them all (slow).
    if ADMIN_POLICY_NAME not in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.put_role_policy(RoleName=name, PolicyName=ADMIN_POLICY_NAME, PolicyDocument=json.dumps(ADMIN_POLICY))
    summary.note(created, f"{acct} IAM role {name}")


def _ensure_bucket(s3: Any, bucket: str, summary: BootstrapSummary, acct: str) -> None:
    created = _missing(s3.head_bucket, ("404", "NoSuchBucket", "NotFound"), Bucket=bucket)
    if created:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if settings.AWS_DEFAULT_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_DEFAULT_REGION}
        s3.create_bucket(**kwargs)
    summary.note(created, f"{acct} S3 bucket {bucket}")


def _trail_bucket_policy(bucket: str, acct: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{acct}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]})


def _ensure_bucket_policy(s3: Any, bucket: str, acct: str, summary: BootstrapSummary) -> None:
    wanted = _trail_bucket_policy(bucket, acct)
    try:
        current = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except aws.ClientError:
        current = None
    changed = current is None or json.loads(current) != json.loads(wanted)
    if changed:
        s3.put_bucket_policy(Bucket=bucket, Policy=wanted)
    summary.note(changed, f"{acct} CloudTrail bucket policy on {bucket}")


def _ensure_queue(sqs: Any, bucket: str, summary: BootstrapSummary, acct: str) -> str:
    created = _missing(sqs.get_queue_url, ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"),
                       QueueName=QUEUE_NAME)
    url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"] if created else sqs.get_queue_url(
        QueueName=QUEUE_NAME)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if created:
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}}}]}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    summary.note(created, f"{acct} SQS queue {QUEUE_NAME}")
    return arn


def _ensure_notification(s3: Any, bucket: str, queue_arn: str, summary: BootstrapSummary, acct: str) -> None:
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    queues = current.get("QueueConfigurations", [])
    present = any(q.get("QueueArn") == queue_arn for q in queues)
    if not present:
        # moto sends an s3:TestEvent to the queue on each put, as AWS does: only put when needed.
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            *[q for q in queues if q.get("Id") != NOTIFICATION_ID],
            {"Id": NOTIFICATION_ID, "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "AWSLogs/"}]}}},
        ]})
    summary.note(not present, f"{acct} S3 → SQS notification on {bucket}")


def _ensure_trail(cloudtrail: Any, bucket: str, summary: BootstrapSummary, acct: str) -> None:
    created = _missing(cloudtrail.get_trail, ("TrailNotFoundException",), Name=TRAIL_NAME)
    if created:
        cloudtrail.create_trail(Name=TRAIL_NAME, S3BucketName=bucket, IsMultiRegionTrail=True,
                                IncludeGlobalServiceEvents=True)
    summary.note(created, f"{acct} CloudTrail trail {TRAIL_NAME}")
    started = not cloudtrail.get_trail_status(Name=TRAIL_NAME)["IsLogging"]
    if started:
        cloudtrail.start_logging(Name=TRAIL_NAME)
    summary.note(started, f"{acct} CloudTrail logging on {TRAIL_NAME}")


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
    """One client per (account, service) for a whole run: portal.aws builds a fresh session for each."""

    def __init__(self, roles: dict[str, str]) -> None:
        self.roles = roles
        self._made: dict[tuple[str, str, str], Any] = {}

    def __call__(self, account_id: str, service: str, region: str | None = None) -> Any:
        key = (account_id, service, region or settings.AWS_DEFAULT_REGION)
        if key not in self._made:
            self._made[key] = aws.client(service, account_id=account_id,
                                         role_name=self.roles.get(account_id, settings.AWS_PORTAL_ROLE_NAME),
                                         region=key[2], session_name="guardrail-bootstrap")
        return self._made[key]


def bootstrap_account(spec: AccountSpec, summary: BootstrapSummary, clients: _Clients | None = None) -> None:
    acct = spec.account_id
    clients = clients or _Clients({acct: spec.role_name})
    iam, s3 = clients(acct, "iam"), clients(acct, "s3")
    # The portal's roles (the account kit's, until the kit's stacks replace this): reading, remediation, and in the
    # management account the organisation's reads.
    portal_roles = [spec.role_name, settings.AWS_REMEDIATION_ROLE_NAME] + (
        [settings.AWS_ORGANIZATIONS_ROLE_NAME] if acct == settings.AWS_MANAGEMENT_ACCOUNT_ID else [])
    for role in portal_roles:
        _ensure_role(iam, role, {"AWS": f"arn:aws:iam::{settings.AWS_MANAGEMENT_ACCOUNT_ID}:root"}, summary, acct)
    _ensure_role(iam, LAUNCH_ROLE_NAME, {"Service": "cloudformation.amazonaws.com"}, summary, acct)
    bucket = trail_bucket(acct)
    _ensure_bucket(s3, bucket, summary, acct)
    _ensure_bucket_policy(s3, bucket, acct, summary)
    queue_arn = _ensure_queue(clients(acct, "sqs"), bucket, summary, acct)
    _ensure_notification(s3, bucket, queue_arn, summary, acct)
    _ensure_trail(clients(acct, "cloudtrail"), bucket, summary, acct)
    _ensure_bucket(s3, config_bucket(acct), summary, acct)
    for region in spec.regions or (settings.AWS_DEFAULT_REGION,):
        _ensure_config(clients(acct, "config", region), summary, acct)


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
