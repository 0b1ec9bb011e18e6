"""A launch's drift: CloudFormation's drift detection on its stack, periodic and on demand, each check a background
run (catalog.models.DriftCheck), the owner and the admins told once per drift.

The calls go through the AWS boundary as the launch's own role (session guardrail-launch-<id>), which created the
stack and so can read its resources, as AWS's drift detection needs (it reads each resource with the caller's
permissions): cloudformation:DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import DriftCheck, DriftStatus, LaunchRequest, LaunchStatus
from portal import aws, queue, runs
from portal.notifications import notify
from portal.roles import is_admin

log = logging.getLogger(__name__)

RUN = "catalog.tasks.drift_check_run"
MAX_ATTEMPTS = 3
DETECTION_TIMEOUT = 120.0  # seconds: AWS detects a small stack's drift within a minute
S = DriftCheck.Status


def _cloudformation(launch: LaunchRequest) -> Any:
    account = launch.launch_role_arn.split(":")[4]
    role = launch.launch_role_arn.split(":role/", 1)[1].split("/")[-1]
    return aws.client("cloudformation", account_id=account, region=launch.region, role_name=role,
                      session_name=f"guardrail-launch-{launch.pk}")


def drift_check_request(*, launch: LaunchRequest, user: AbstractBaseUser | None = None) -> DriftCheck:
    """A check of the launch's drift, sent after the commit; one already waiting or running is returned instead."""
    if launch.status != LaunchStatus.SUCCEEDED or not launch.stack_id:
        raise ValidationError({"status": f"A launch that is {launch.status} has no stack to check for drift now."})
    with transaction.atomic():
        LaunchRequest.objects.select_for_update().filter(pk=launch.pk).first()
        waiting = launch.drift_checks.filter(status__in=[S.PENDING, S.RUNNING]).first()
        if waiting is not None:
            return waiting
        check = DriftCheck.objects.create(launch=launch, requested_by=user)
        queue.enqueue(RUN, check.pk)
    return check


def drift_check_ask(*, user: AbstractBaseUser, launch: LaunchRequest) -> DriftCheck:
    """A check asked for by a person: the owner or an admin (an auditor reads the results, asks for none)."""
    if launch.owner_id != user.pk and not is_admin(user):
        raise PermissionDenied("Only the owner or an admin asks for a drift check.")
    return drift_check_request(launch=launch, user=user)


def drift_check_all() -> int:
    """Periodic: a check for every launch that runs and has none waiting; how many were asked for."""
    count = 0
    for launch in LaunchRequest.objects.filter(status=LaunchStatus.SUCCEEDED).exclude(stack_id="").exclude(
            drift_checks__status__in=[S.PENDING, S.RUNNING]).distinct():
        drift_check_request(launch=launch)
        count += 1
    return count


def _detect(launch: LaunchRequest) -> tuple[str, list[dict[str, Any]]]:
    cfn = _cloudformation(launch)
    detection_id = cfn.detect_stack_drift(StackName=launch.stack_id)["StackDriftDetectionId"]
    deadline = time.monotonic() + DETECTION_TIMEOUT
    while True:
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"CloudFormation's drift detection {detection_id} did not finish in time")
        time.sleep(2)
    drifts: list[dict[str, Any]] = []
    options: dict[str, str] = {}
    while True:
        page = cfn.describe_stack_resource_drifts(StackName=launch.stack_id, **options)
        drifts += page.get("StackResourceDrifts", [])
        if not page.get("NextToken"):
            break
        options = {"NextToken": page["NextToken"]}
    resources = [{"logical_id": d["LogicalResourceId"], "physical_id": d.get("PhysicalResourceId", ""),
                  "type": d.get("ResourceType", ""), "status": d["StackResourceDriftStatus"],
                  "differences": [{"path": p["PropertyPath"], "expected": p.get("ExpectedValue", ""),
                                   "actual": p.get("ActualValue", ""), "kind": p["DifferenceType"]}
                                  for p in d.get("PropertyDifferences") or []]} for d in drifts]
    stack_status = status.get("StackDriftStatus") or DriftStatus.UNKNOWN
    if status["DetectionStatus"] == "DETECTION_FAILED" and not resources:
        raise RuntimeError(status.get("DetectionStatusReason") or "CloudFormation's drift detection failed")
    return stack_status, resources


def _signature(resources: list[dict[str, Any]]) -> str:
    drifted = sorted((r["logical_id"], r["status"], json.dumps(r["differences"], sort_keys=True))
                     for r in resources if r["status"] in ("MODIFIED", "DELETED"))
    return hashlib.sha256(json.dumps(drifted).encode()).hexdigest() if drifted else ""


def drift_check_run(check_id: int) -> None:
    """Claim the check, ask CloudFormation, keep what it said; tell people when it is a new drift."""
    if not DriftCheck.run_claim(check_id):
        return  # done already, or another worker has it
    check = DriftCheck.objects.select_related("launch").get(pk=check_id)
    launch = check.launch
    try:
        stack_status, resources = _detect(launch)
    except aws.ClientError as exc:  # refused (a permission, a stack gone): said, not retried
        DriftCheck.run_finish(check_id, status=S.FAILED, error=f"{aws.error_code(exc)}: {exc}",
                              finished=timezone.now())
        return
    except (*aws.AWS_ERRORS, TimeoutError, RuntimeError) as exc:  # AWS away: back to waiting, for the reconciler
        if check.attempts >= MAX_ATTEMPTS:
            DriftCheck.run_finish(check_id, status=S.FAILED, error=f"Given up after {check.attempts} attempts: {exc}",
                                  finished=timezone.now())
        else:
            DriftCheck.run_release(check_id, error=str(exc))
        return
    signature = _signature(resources)
    DriftCheck.run_finish(check_id, status=S.SUCCEEDED, stack_drift_status=stack_status, resources=resources,
                          drifted_count=sum(r["status"] in ("MODIFIED", "DELETED") for r in resources),
                          signature=signature, finished=timezone.now())
    if signature:
        _tell_once(check_id, launch, signature)


def _tell_once(check_id: int, launch: LaunchRequest, signature: str) -> None:
    """The owner and the admins, once per drift: not when the last check before this one found the same drift."""
    previous = launch.drift_checks.filter(status=S.SUCCEEDED).exclude(pk=check_id).order_by("-finished", "-id").first()
    if previous is not None and previous.signature == signature:
        return
    if not DriftCheck.objects.filter(pk=check_id, notified=False).update(notified=True):
        return
    check = DriftCheck.objects.get(pk=check_id)
    lines = [f"{r['logical_id']} ({r['type']}): {r['status']}" + "".join(
        f"\n  {d['path']}: expected {d['expected']}, actual {d['actual']}" for d in r["differences"])
        for r in check.resources if r["status"] in ("MODIFIED", "DELETED")]
    people = {u.pk: u for u in get_user_model().objects.filter(groups__name="Admin")} | {launch.owner_id: launch.owner}
    notify(subject=f"Launch {launch.name} drifted: {check.drifted_count} resource(s) changed outside CloudFormation",
           body="\n".join(lines), url=launch.get_absolute_url() + "#drift", level="warning",
           users=list(people.values()))


def drift_latest(launch: LaunchRequest) -> DriftCheck | None:
    """The newest finished check (what the page shows)."""
    return launch.drift_checks.exclude(status__in=[S.PENDING, S.RUNNING]).order_by("-created", "-id").first()


def drift_waiting(launch: LaunchRequest) -> DriftCheck | None:
    return launch.drift_checks.filter(status__in=[S.PENDING, S.RUNNING]).order_by("-created", "-id").first()


def runs_register() -> None:
    runs.register(DriftCheck, task=RUN, stale_after=timedelta(minutes=10), max_attempts=MAX_ATTEMPTS,
                  keep_done=timedelta(days=30))
