"""The connection check's probes: each role assumed, each permission simulated, each piece looked at.

One line per check, "passed", "failed" (with AWS's error and what to fix) or "waiting" (nothing wrong yet, but
nothing to prove it either: no log file has arrived). Every call goes through portal.aws, as the portal's own
principal assuming the kit's roles, so a check that passes is the portal really able to do its work.

Permissions are proven with iam:SimulatePrincipalPolicy against the operations the portal's code calls
(portal.aws_permissions, the same list the kit grants and a test keeps equal to the code): a role that lacks one
fails its line naming the operation, before any feature trips over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from audit.models import LogFile
from portal import aws
from portal.aws_permissions import PERMISSIONS, SIMULATION_CONTEXT, role_name

PASSED, FAILED, WAITING = "passed", "failed", "waiting"
LINE_STATUSES = (PASSED, FAILED, WAITING)
SESSION = "guardrail-check"
TRAIL_QUEUE = "guardrail-cloudtrail"
BOUNDARY_POLICY = "GuardrailLaunchBoundary"
SIMULATE_BATCH = 50
KIT = "deploy/aws/guardrail-member-account.yaml"
MANAGEMENT_KIT = "deploy/aws/guardrail-management-account.yaml"


@dataclass
class Line:
    key: str
    title: str
    status: str
    detail: str = ""
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, aws.ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Target:
    account_id: str
    regions: tuple[str, ...]
    reader_role: str
    management: bool


def _purposes(target: Target) -> list[str]:
    return [p for p in PERMISSIONS if p != "organizations" or target.management]


def _role(target: Target, purpose: str) -> str:
    return target.reader_role if purpose == "reader" else role_name(purpose)


def _kit_for(purpose: str) -> str:
    return MANAGEMENT_KIT if PERMISSIONS[purpose].kit.endswith("management-account.yaml") else KIT


def _assume(target: Target, purpose: str) -> Line:
    role = _role(target, purpose)
    key, title = f"assume:{purpose}", f"The portal can assume {role} ({PERMISSIONS[purpose].purpose})"
    try:
        who = aws.identity_as(target.account_id, role, session_name=SESSION)
    except aws.AWS_ERRORS as exc:
        return Line(key, title, FAILED, _failure(exc),
                    f"Deploy {_kit_for(purpose)} in account {target.account_id} with PortalPrincipalArn="
                    f"{settings.AWS_PORTAL_PRINCIPAL_ARN} and ExternalId={settings.AWS_EXTERNAL_ID}; the portal's "
                    f"principal needs sts:AssumeRole on it (the management kit's GuardrailPortalAssume policy).")
    return Line(key, title, PASSED, who.get("Arn", ""))


def _iam(target: Target):
    return aws.client("iam", account_id=target.account_id, role_name=target.reader_role, session_name=SESSION,
                      max_attempts=1)


def _denied(iam, role_arn: str, operations: tuple[str, ...]) -> list[str]:
    """The operations the role's policies do not allow; those the kit grants under a condition are simulated with
    the context the portal's call carries (SIMULATION_CONTEXT)."""
    plain = [op for op in operations if op not in SIMULATION_CONTEXT]
    batches = [(plain[i:i + SIMULATE_BATCH], []) for i in range(0, len(plain), SIMULATE_BATCH)]
    batches += [([op], SIMULATION_CONTEXT[op]) for op in operations if op in SIMULATION_CONTEXT]
    denied = []
    for actions, context in batches:
        answer = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=actions,
                                               **({"ContextEntries": context} if context else {}))
        denied += [r["EvalActionName"] for r in answer.get("EvaluationResults", [])
                   if r.get("EvalDecision") != "allowed"]
    return denied


def _permissions(target: Target, purpose: str) -> Line:
    role = _role(target, purpose)
    operations = PERMISSIONS[purpose].operations
    key, title = f"permissions:{purpose}", f"{role} grants the {len(operations)} operations the portal calls"
    try:
        denied = _denied(_iam(target), aws.role_arn(target.account_id, role), operations)
    except aws.AWS_ERRORS as exc:
        return Line(key, title, FAILED, _failure(exc),
                    f"The portal simulates each role's policies through {target.reader_role}: it needs "
                    f"iam:SimulatePrincipalPolicy (the member kit grants it).")
    if denied:
        return Line(key, title, FAILED, "Not allowed: " + ", ".join(sorted(denied)),
                    f"Update the stack of {_kit_for(purpose)} in {target.account_id} to this portal's version of "
                    f"the kit: it grants exactly these operations.")
    return Line(key, title, PASSED, f"{len(operations)} of {len(operations)} allowed")


def _trails(target: Target) -> tuple[Line, dict | None]:
    key, title = "trail", "A multi-region CloudTrail trail is logging this account"
    ct = aws.client("cloudtrail", account_id=target.account_id, role_name=target.reader_role, session_name=SESSION,
                    max_attempts=1)
    try:
        trails = ct.describe_trails(includeShadowTrails=True).get("trailList", [])
        for trail in trails:
            if not trail.get("IsMultiRegionTrail"):
                continue
            if ct.get_trail_status(Name=trail["TrailARN"]).get("IsLogging"):
                return Line(key, title, PASSED, f"{trail['Name']} → s3://{trail.get('S3BucketName', '')}"), trail
    except aws.AWS_ERRORS as exc:
        return Line(key, title, FAILED, _failure(exc), "The reader role needs cloudtrail:DescribeTrails and "
                    "cloudtrail:GetTrailStatus (the member kit grants them)."), None
    found = ", ".join(t["Name"] for t in trails) or "no trail"
    return Line(key, title, FAILED, f"None logging across regions ({found}).",
                "Deploy the member kit with TrailMode=Create, or with TrailMode=Organization when an organisation "
                "trail covers the account; a stopped trail: aws cloudtrail start-logging --name <trail>."), None


def _notifications(target: Target, trail: dict | None) -> Line:
    key, title = "notifications", "New log files are announced on the SQS queue the portal reads"
    if trail is None:
        return Line(key, title, FAILED, "No logging trail, so no log files to announce.", "Fix the trail first.")
    bucket = trail.get("S3BucketName", "")
    try:
        sqs = aws.client("sqs", account_id=target.account_id, role_name=target.reader_role, session_name=SESSION,
                         max_attempts=1)
        url = sqs.get_queue_url(QueueName=TRAIL_QUEUE)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3 = aws.client("s3", account_id=target.account_id, role_name=target.reader_role, session_name=SESSION,
                        max_attempts=1)
        notification = s3.get_bucket_notification_configuration(Bucket=bucket)
        configured = notification.get("QueueConfigurations", [])
    except aws.AWS_ERRORS as exc:
        return Line(key, title, FAILED, _failure(exc),
                    f"The member kit creates queue {TRAIL_QUEUE} and the bucket's notification; with an organisation "
                    f"trail, the bucket's owner adds the notification (README, Connect your AWS organisation).")
    # Through SNS (the bucket's topic, or the trail's own SnsTopicName) or EventBridge: the portal reads those too;
    # whether the topic or rule reaches the queue cannot be seen from the bucket.
    routes = [c["TopicArn"] for c in notification.get("TopicConfigurations", []) if c.get("TopicArn")] + (
        [trail["SnsTopicARN"]] if trail.get("SnsTopicARN") else []) + (
        ["EventBridge"] if "EventBridgeConfiguration" in notification else [])
    if not any(c.get("QueueArn") == queue_arn and any(e.startswith("s3:ObjectCreated") for e in c.get("Events", []))
               for c in configured):
        if routes:
            return Line(key, title, PASSED, f"s3://{bucket} → {', '.join(routes)} → {queue_arn} (subscribed there: "
                        "see the next line)")
        return Line(key, title, FAILED, f"s3://{bucket} does not notify {queue_arn} of new objects.",
                    "Add an s3:ObjectCreated:* notification to the queue (the member kit's TrailBucket does).")
    return Line(key, title, PASSED, f"s3://{bucket} → {queue_arn}")


def _arriving(target: Target, since: timedelta = timedelta(days=1)) -> Line:
    key, title = "arriving", "Log files from this account reach the portal"
    last = LogFile.objects.filter(  # read by the account, or its files in an organisation trail's central bucket
        Q(account_id=target.account_id) | Q(key__contains=f"/{target.account_id}/CloudTrail/")).order_by("-created").first()
    if last is None:
        return Line(key, title, WAITING, "No log file yet: AWS delivers the first about 5 minutes after the trail "
                    "starts logging (up to 15).", "Check again in a few minutes.")
    age = timezone.now() - last.created
    if age > since:
        return Line(key, title, FAILED, f"The last file arrived {age.days} day(s) ago ({last}).",
                    "Is the trail still logging, the queue still notified? See the lines above.")
    return Line(key, title, PASSED, f"Last file {int(age.total_seconds())} s ago: {last}")


RECORDER_PROBES: tuple[tuple[str, str, dict], ...] = (
    ("ec2", "describe_instances", {"MaxResults": 5}),
    ("ec2", "describe_security_groups", {"MaxResults": 5}),
    ("ec2", "describe_vpcs", {"MaxResults": 5}),
)


def _recorder(target: Target, region: str) -> Line:
    key, title = f"recorder:{region}", f"The recorder can describe resources in {region}"
    for service, operation, kwargs in RECORDER_PROBES:
        try:
            client = aws.client(service, account_id=target.account_id, region=region, role_name=target.reader_role,
                                session_name=SESSION, max_attempts=1)
            getattr(client, operation)(**kwargs)
        except aws.AWS_ERRORS as exc:
            return Line(key, title, FAILED, f"{service} {operation}: {_failure(exc)}",
                        f"An SCP may deny {region}, or the region is not enabled in the account; otherwise update the "
                        f"member kit stack.")
    return Line(key, title, PASSED, ", ".join(op for _, op, _ in RECORDER_PROBES))


def _boundary(target: Target) -> Line:
    role = role_name("launch")
    key, title = "boundary", f"{role} has the permissions boundary {BOUNDARY_POLICY}"
    try:
        found = _iam(target).get_role(RoleName=role)["Role"].get("PermissionsBoundary", {})
    except aws.AWS_ERRORS as exc:
        return Line(key, title, FAILED, _failure(exc), f"Deploy {KIT} in account {target.account_id}.")
    arn = found.get("PermissionsBoundaryArn", "")
    if not arn.endswith(f":policy/{BOUNDARY_POLICY}"):
        return Line(key, title, FAILED, f"Boundary: {arn or 'none'}. Launched stacks could exceed what the kit allows.",
                    f"Update the member kit stack: it sets {BOUNDARY_POLICY} on {role}.")
    return Line(key, title, PASSED, arn)


def connection_lines(target: Target) -> Iterator[Line]:
    """Every line, in order; later probes are skipped (failed with why) when the reader role cannot be assumed."""
    assumed = {}
    for purpose in _purposes(target):
        line = _assume(target, purpose)
        assumed[purpose] = line.status == PASSED
        yield line
    if not assumed.get("reader"):
        yield Line("reader", "The other checks", FAILED, "Skipped: they run as the portal's reader role.",
                   "Fix the first line.")
        return
    for purpose in _purposes(target):
        yield _permissions(target, purpose)
    trail_line, trail = _trails(target)
    yield trail_line
    yield _notifications(target, trail)
    yield _arriving(target)
    for region in target.regions:
        yield _recorder(target, region)
    yield _boundary(target)


ProgressCallback = Callable[[list[dict[str, str]]], None]


def run(target: Target, progress: ProgressCallback | None = None) -> list[dict[str, str]]:
    lines: list[dict[str, str]] = []
    for line in connection_lines(target):
        lines.append(line.as_dict())
        if progress is not None:
            progress(lines)
    return lines
