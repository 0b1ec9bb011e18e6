"""CloudFormation for launches, through the AWS boundary: the template to S3, the stack as the launch role."""

import time
import uuid
from typing import Any

from portal import aws
from catalog.cfn.loader import content_hash
from catalog.models import LaunchRequest
from catalog.noecho import secrets_open
from catalog.provisioning.progress import CANCELLED, current_operation, is_stack_event

TEMPLATE_BUCKET = "guardrail-templates-{account_id}"
TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
TERMINAL_FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED",
                   "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE"}


def _role(launch: LaunchRequest) -> tuple[str, str]:
    """(account, role name) of the launch role ARN arn:aws:iam::<account>:role/<path/name>."""
    account = launch.launch_role_arn.split(":")[4]
    return account, launch.launch_role_arn.split(":role/", 1)[1].split("/")[-1]


def _cloudformation(launch: LaunchRequest) -> Any:
    account, role = _role(launch)
    return aws.client("cloudformation", account_id=account, region=launch.region, role_name=role,
                      session_name=f"guardrail-launch-{launch.pk}", max_attempts=1)


def template_upload(launch: LaunchRequest, version=None, body: str | None = None) -> str:
    """Put the template (by content hash) in the account's template bucket; its URL. The body is the version's,
    unless given (an update's), or the launch's own where secure defaults changed it."""
    version = version or launch.version
    account, role = _role(launch)  # as the launch role, which CloudFormation reads the template with
    s3 = aws.client("s3", account_id=account, region=launch.region, role_name=role,
                    session_name=f"guardrail-launch-{launch.pk}")
    bucket = TEMPLATE_BUCKET.format(account_id=account)
    try:
        s3.head_bucket(Bucket=bucket)
    except aws.ClientError:
        options = {} if launch.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": launch.region}}
        s3.create_bucket(Bucket=bucket, **options)
    if body is None:
        body = version.document.body
        if launch.template_override and version == launch.version:  # secure defaults applied at launch
            body = launch.template_override
    key = f"templates/{content_hash(body)}.template"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return f"https://{bucket}.s3.amazonaws.com/{key}"


def system_tags(launch: LaunchRequest) -> dict[str, str]:
    return {"guardrail:launch-id": str(launch.pk), "guardrail:owner": launch.owner.get_username(),
            "guardrail:team": launch.team.slug}


def stack_create(launch: LaunchRequest, template_url: str) -> str:
    values = {**launch.parameters, **secrets_open(launch.secrets)}
    tags = {**launch.tags, **system_tags(launch)}
    answer = _cloudformation(launch).create_stack(
        StackName=launch.stack_name, TemplateURL=template_url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        ClientRequestToken=f"guardrail-launch-{launch.pk}-create",
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    return answer["StackId"]


def stack_describe(launch: LaunchRequest) -> dict | None:
    """The stack (by id once known, else by name), or None if CloudFormation does not know it."""
    try:
        stacks = _cloudformation(launch).describe_stacks(StackName=launch.stack_id or launch.stack_name)["Stacks"]
    except aws.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def stack_events(launch: LaunchRequest) -> list[dict]:
    return _cloudformation(launch).describe_stack_events(StackName=launch.stack_id)["StackEvents"]


def stack_resources(launch: LaunchRequest) -> list[dict]:
    return _cloudformation(launch).describe_stack_resources(StackName=launch.stack_id)["StackResources"]


def stack_delete(launch: LaunchRequest) -> None:
    _cloudformation(launch).delete_stack(StackName=launch.stack_id or launch.stack_name,
                                         ClientRequestToken=f"guardrail-launch-{launch.pk}-delete")


def outputs_of(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}


ADVICE = {
    "ROLLBACK_COMPLETE": "Rolled back: CloudFormation removed what it had created. Correct the value named above, or "
                         "ask an admin to fix the product's template, and launch again; Terminate removes the "
                         "rolled-back stack.",
    "ROLLBACK_FAILED": "The rollback could not remove everything: what is named above is still in the account. "
                       "Remove it (or ask an admin), then Terminate.",
    "DELETE_FAILED": "The delete stopped: what is named above is still in the account. Remove what blocks it (or ask "
                     "an admin), then Terminate again.",
    "CREATE_FAILED": "Correct the value named above, or ask an admin to fix the product's template, and launch again.",
}


def failure_reason(launch: LaunchRequest, stack: dict) -> str:
    """What failed and why, from the stack's events: the first resource that failed in the latest operation (its
    type and reason, the cause rather than "Resource creation cancelled"), else the stack's own reason; then how the
    stack ended and what to do."""
    try:
        operation = current_operation(stack_events(launch))
    except aws.AWS_ERRORS:
        operation = []
    failed = [e for e in operation if not is_stack_event(e) and e.get("ResourceStatus", "").endswith("FAILED")]
    causes = [e for e in failed if e.get("ResourceStatusReason", "") not in CANCELLED] or failed
    status = stack.get("StackStatus", "")
    if causes:
        first = causes[0]
        what = (f"{first['LogicalResourceId']} ({first.get('ResourceType', '')}) "
                f"{first.get('ResourceStatus', 'failed')}: {first.get('ResourceStatusReason', 'no reason given')}")
    else:  # a failure no resource is blamed for (a parameter checked against the account, say)
        reasons = [e.get("ResourceStatusReason", "") for e in operation
                   if is_stack_event(e) and e.get("ResourceStatusReason") and e.get("ResourceStatusReason") !=
                   "User Initiated"]
        what = stack.get("StackStatusReason") or (reasons[0] if reasons else status or "failed")
    ended = f"The stack ended {status}." if status else ""
    return " ".join(part for part in (what.rstrip(" .") + ".", ended, ADVICE.get(status, "")) if part)


def remember_resources(launch: LaunchRequest) -> None:
    """Note the stack's resources before deleting it: the launch page lists them once the stack is gone."""
    resources = [{"logical_id": r.get("LogicalResourceId", ""), "type": r.get("ResourceType", ""),
                  "physical_id": r.get("PhysicalResourceId", "")} for r in stack_resources(launch)]
    LaunchRequest.objects.filter(pk=launch.pk).update(stack_resources=resources)
    launch.stack_resources = resources


def kept_resources(launch: LaunchRequest) -> list[dict[str, str]]:
    """What the stack's delete kept in the account (DeletionPolicy: Retain): its DELETE_SKIPPED events in the
    latest delete. Nothing deletes them: they are the template's choice. A Snapshot policy's final snapshot is not
    among them: CloudFormation reports that resource DELETE_COMPLETE and names no snapshot in its events."""
    operation = current_operation(stack_events(launch))
    return [{"logical_id": e.get("LogicalResourceId", ""), "type": e.get("ResourceType", ""),
             "physical_id": e.get("PhysicalResourceId", "")} for e in operation
            if e.get("ResourceStatus") == "DELETE_SKIPPED" and not is_stack_event(e)]


def stack_update(launch: LaunchRequest, template_url: str) -> None:
    pending = launch.pending_update
    values = {**pending["parameters"], **secrets_open(pending["secrets"])}
    tags = {**launch.tags, **system_tags(launch)}
    _cloudformation(launch).update_stack(
        StackName=launch.stack_id, TemplateURL=template_url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        ClientRequestToken=f"guardrail-launch-{launch.pk}-update-{launch.transitions.count()}",
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )


def change_set_preview(launch: LaunchRequest, version, values: dict[str, str], body: str | None = None) -> list[dict]:
    """Create an UPDATE change set, read what it would do, delete it: [{action, logical_id, type, replacement,
    physical_id, details}].

    Change sets go by the stack's name (the sandbox finds change sets by name only; AWS takes either).
    """
    cfn = _cloudformation(launch)
    name = f"guardrail-preview-{launch.pk}-{uuid.uuid4().hex[:8]}"
    cfn.create_change_set(
        StackName=launch.stack_name, ChangeSetName=name, ChangeSetType="UPDATE",
        TemplateURL=template_upload(launch, version, body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Tags=[{"Key": k, "Value": v} for k, v in {**launch.tags, **system_tags(launch)}.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    try:
        answer = _change_set_when_ready(cfn, launch.stack_name, name)
    finally:
        cfn.delete_change_set(StackName=launch.stack_name, ChangeSetName=name)
    changes = [c["ResourceChange"] for c in answer.get("Changes", []) if "ResourceChange" in c]
    return [{"action": c.get("Action", ""), "logical_id": c.get("LogicalResourceId", ""),
             "type": c.get("ResourceType", ""), "replacement": c.get("Replacement", ""),
             "physical_id": c.get("PhysicalResourceId", ""), "details": _change_details(c)} for c in changes]


def _change_details(change: dict) -> list[dict]:
    """What changes in a Modify: [{name (the property, or Tags), recreation (Never/Conditionally/Always), cause}]."""
    return [{"name": d["Target"].get("Name") or d["Target"].get("Attribute", ""),
             "recreation": d["Target"].get("RequiresRecreation", ""),
             "cause": d.get("CausingEntity") or d.get("ChangeSource", "")}
            for d in change.get("Details", []) if d.get("Target")]


def _change_set_when_ready(cfn: Any, stack_id: str, name: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = cfn.describe_change_set(StackName=stack_id, ChangeSetName=name)
        status = answer.get("Status", "")
        if status in ("CREATE_COMPLETE", "FAILED") or time.monotonic() > deadline:
            if status == "FAILED" and "didn't contain changes" not in answer.get("StatusReason", ""):
                raise ValueError(f"CloudFormation could not plan the update: {answer.get('StatusReason', '')}")
            return answer
        time.sleep(1)
