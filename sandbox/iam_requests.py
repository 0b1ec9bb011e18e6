"""What a request asks of IAM: the action it needs (an API operation's IAM action name: S3's differ most) and
the resources it acts on, where the sandbox can name them (see sandbox.iam_policy on matching the others)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from sandbox.iam_policy import Principal, iam_backend

# IAM action names that differ from the API operation (S3's are the main case).
S3_ACTIONS: dict[str, str] = {
    "ListBuckets": "ListAllMyBuckets", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket", "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads", "HeadObject": "GetObject",
    "CopyObject": "PutObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject", "CompleteMultipartUpload": "PutObject", "DeleteObjects": "DeleteObject",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketCors": "GetBucketCORS", "PutBucketCors": "PutBucketCORS", "DeleteBucketCors": "PutBucketCORS",
    "DeleteBucketTagging": "PutBucketTagging", "DeleteBucketWebsite": "DeleteBucketWebsite",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "DeleteBucketReplication": "PutReplicationConfiguration", "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration", "DeleteObjectTagging": "DeleteObjectTagging",
}
OTHER_ACTIONS: dict[tuple[str, str], str] = {
    ("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeFunction",
}
# IAM service prefixes that are not the signing name.
PREFIXES = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}


def iam_action(prefix: str, operation: str) -> str:
    """The IAM action a call needs, e.g. ("s3", "HeadBucket") → "s3:ListBucket"."""
    prefix = PREFIXES.get(prefix, prefix)
    if prefix == "s3":
        name = S3_ACTIONS.get(operation, operation)
    else:
        name = OTHER_ACTIONS.get((prefix, operation), operation)
    return f"{prefix}:{name}"


# --- naming the resource of a request ---

def _queue_arn(url_or_name: str, region: str, account_id: str) -> str:
    if "/" in url_or_name:
        parts = [p for p in urlparse(url_or_name).path.split("/") if p]
        if len(parts) >= 2:
            return f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}"
    return f"arn:aws:sqs:{region}:{account_id}:{url_or_name}"


def _iam_arn(account_id: str, kind: str, name: str) -> str:
    iam = iam_backend(account_id)
    if iam is not None:
        try:
            found = {"role": lambda: next((r for r in list(iam.roles.values()) if r.name == name), None),
                     "user": lambda: iam.users.get(name),
                     "group": lambda: iam.groups.get(name)}[kind]()
            if found is not None:
                return str(found.arn)
        except Exception:
            pass
    return f"arn:aws:iam::{account_id}:{kind}/{name}"


def _stack_arn(name: str, region: str, account_id: str) -> str:
    if name.startswith("arn:"):
        return name
    try:
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends[account_id][region]
        for stack in list(backend.stacks.values()):
            if stack.name == name and stack.status != "DELETE_COMPLETE":
                return str(stack.stack_id)
    except Exception:
        pass
    return f"arn:aws:cloudformation:{region}:{account_id}:stack/{name}/*"


def resources_for(service: str, operation: str, params: Mapping[str, Any], *, region: str,
                  account_id: str, caller: Principal | None = None) -> tuple[str, ...]:
    """The ARNs a call acts on, where the sandbox can name them; () when it cannot (then matched leniently)."""
    def get(name: str) -> str | None:
        value = params.get(name)
        return str(value) if value not in (None, "") else None

    if service == "sts":
        role = get("RoleArn")
        return (role,) if operation.startswith("AssumeRole") and role else ()
    if service == "s3":
        bucket = get("Bucket")
        if not bucket:
            return ()
        key = get("Key")
        return (f"arn:aws:s3:::{bucket}/{key}",) if key else (f"arn:aws:s3:::{bucket}",)
    if service == "sqs":
        target = get("QueueUrl") or get("QueueName")
        return (_queue_arn(target, region, account_id),) if target else ()
    if service == "iam":
        if get("PolicyArn"):
            return (str(get("PolicyArn")),)
        if get("RoleName"):
            return (_iam_arn(account_id, "role", str(get("RoleName"))),)
        if get("UserName"):
            return (_iam_arn(account_id, "user", str(get("UserName"))),)
        if get("GroupName"):
            return (_iam_arn(account_id, "group", str(get("GroupName"))),)
        if get("PolicySourceArn"):
            return (str(get("PolicySourceArn")),)
        if operation in ("GetUser", "ListAccessKeys", "CreateAccessKey", "ListUserPolicies", "ListMFADevices",
                         "ChangePassword") and caller is not None and ":user/" in caller.arn:
            return (caller.arn,)  # without UserName these act on the caller
        return ()
    if service == "cloudformation":
        stack = get("StackName")
        return (_stack_arn(stack, region, account_id),) if stack else ()
    return ()
