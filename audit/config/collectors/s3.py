"""S3 buckets as AWS Config records them: the bucket, and its ACL, policy and settings as supplementary data.

S3 is global in the sense that one ListBuckets shows every bucket of the account, so the collector makes one
pass per account; each snapshot carries the bucket's own region (GetBucketLocation, or the BucketRegion that
ListBuckets gives), and the per-bucket calls go to that region. S3 has no batch form of the per-bucket reads
(ACL, policy, public access block, encryption, versioning, logging, tags): a scan costs a handful of calls
per bucket, and a bucket that has none of a setting answers with an error code that means "none", not a failure.

Pure Python like ``audit.config.base``: clients come from the ``clients(service, region)`` callable and AWS
errors are recognised by their code, so neither Django nor botocore is imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from audit.config.base import Clients, Gone, Snapshot, error_code, jsonable, lower_camel, sorted_items, tag_dict, utc

__all__ = ["BUCKET", "COLLECTORS", "BucketCollector", "bucket_region"]

BUCKET = "AWS::S3::Bucket"
US_EAST_1 = "us-east-1"  # where a bucket without a LocationConstraint lives
PAGE_SIZE = 1000

_NO_BUCKET = frozenset({"NoSuchBucket"})
# The codes with which S3 says "this bucket has none of that setting".
_NO_POLICY = frozenset({"NoSuchBucketPolicy"})
_NO_PUBLIC_ACCESS_BLOCK = frozenset({"NoSuchPublicAccessBlockConfiguration"})
_NO_ENCRYPTION = frozenset({"ServerSideEncryptionConfigurationNotFoundError"})
_NO_TAGS = frozenset({"NoSuchTagSet"})
# LocationConstraint values that name a region by an older name.
_LEGACY_LOCATIONS = {"": US_EAST_1, "US": US_EAST_1, "EU": "eu-west-1"}


def _bucket_name(resource_id: str) -> str:
    """A bucket name, also from ``arn:aws:s3:::name``."""
    return resource_id.split(":::", 1)[1] if resource_id.startswith("arn:") and ":::" in resource_id else resource_id


def _arn(name: str, region: str) -> str:
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:s3:::{name}"


def _call(operation: Callable[..., dict[str, Any]], absent: frozenset[str] = frozenset(), **kwargs: Any
          ) -> dict[str, Any] | None:
    """One per-bucket read: None when S3 answers one of the `absent` codes, Gone when the bucket is gone."""
    try:
        return operation(**kwargs)
    except Exception as exc:
        code = error_code(exc)
        if code in absent:
            return None
        if code in _NO_BUCKET:
            raise Gone() from exc
        raise


def bucket_region(clients: Clients, name: str, home: str) -> str | None:
    """The bucket's region (GetBucketLocation through the `home` region's client); None if it does not exist."""
    try:
        answer = clients("s3", home).get_bucket_location(Bucket=name)
    except Exception as exc:
        if error_code(exc) in _NO_BUCKET:
            return None
        raise
    location = answer.get("LocationConstraint") or ""
    return _LEGACY_LOCATIONS.get(location, location)


def _listing(clients: Clients, home: str, **kwargs: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The account's canonical owner and its buckets (ListBuckets, paginated)."""
    owner: dict[str, Any] = {}
    buckets: list[dict[str, Any]] = []
    paginator = clients("s3", home).get_paginator("list_buckets")
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}, **kwargs):
        owner = page.get("Owner") or owner
        buckets += page.get("Buckets") or []
    return owner, buckets


def _supplementary(s3: Any, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What Config keeps in supplementaryConfiguration for a bucket, and the bucket's tags."""
    acl = _call(s3.get_bucket_acl, Bucket=name) or {}
    policy = _call(s3.get_bucket_policy, _NO_POLICY, Bucket=name)
    block = _call(s3.get_public_access_block, _NO_PUBLIC_ACCESS_BLOCK, Bucket=name)
    encryption = _call(s3.get_bucket_encryption, _NO_ENCRYPTION, Bucket=name)
    versioning = _call(s3.get_bucket_versioning, Bucket=name) or {}
    logging = (_call(s3.get_bucket_logging, Bucket=name) or {}).get("LoggingEnabled") or {}
    tagging = _call(s3.get_bucket_tagging, _NO_TAGS, Bucket=name) or {}
    rules = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules")
    mfa_delete = versioning.get("MFADelete")
    supplementary = {
        "AccessControlList": {
            "owner": lower_camel(acl.get("Owner") or {}),
            "grants": sorted_items(lower_camel(acl.get("Grants") or [])),
        },
        "BucketPolicy": {"policyText": (policy or {}).get("Policy")},
        "PublicAccessBlockConfiguration": (
            lower_camel(block.get("PublicAccessBlockConfiguration") or {}) if block is not None else None),
        "ServerSideEncryptionConfiguration": (
            {"rules": sorted_items(lower_camel(rules or []))} if encryption is not None else None),
        "BucketVersioningConfiguration": {
            "status": versioning.get("Status") or "Off",
            "isMfaDeleteEnabled": (mfa_delete == "Enabled") if mfa_delete else None,
        },
        "BucketLoggingConfiguration": {
            "destinationBucketName": logging.get("TargetBucket"),
            "logFilePrefix": logging.get("TargetPrefix"),
        },
    }
    return supplementary, tag_dict(tagging.get("TagSet"))


def _snapshot(clients: Clients, home: str, bucket: dict[str, Any], owner: dict[str, Any]) -> Snapshot | None:
    name = bucket["Name"]
    region = bucket.get("BucketRegion") or bucket_region(clients, name, home)
    if region is None:
        return None
    try:
        supplementary, tags = _supplementary(clients("s3", region), name)
    except Gone:
        return None
    configuration = {
        "name": name,
        "owner": {"displayName": owner.get("DisplayName"), "id": owner.get("ID")},
        "creationDate": jsonable(bucket.get("CreationDate")),
    }
    return Snapshot(resource_type=BUCKET, resource_id=name, region=region, configuration=configuration,
                    arn=bucket.get("BucketArn") or _arn(name, region), name=name, supplementary=supplementary,
                    tags=tags, relationships=[], created=utc(bucket.get("CreationDate")))


class BucketCollector:
    """`region` (for `get`, GLOBAL, which the recorder's clients callable maps to the account's default region)
    only says which endpoint answers ListBuckets; each bucket is read in, and recorded with, its own region."""

    resource_type = BUCKET
    global_ = True

    def scan(self, clients: Clients, region: str) -> Iterator[Snapshot]:
        """Every bucket of the account, in one pass."""
        owner, buckets = _listing(clients, region)
        for bucket in sorted(buckets, key=lambda b: b["Name"]):
            snapshot = _snapshot(clients, region, bucket, owner)
            if snapshot is not None:  # None: deleted while the scan ran
                yield snapshot

    def get(self, clients: Clients, region: str, resource_id: str) -> Snapshot | None:
        """`resource_id`: the bucket's name (or its ARN). None when ListBuckets no longer shows it."""
        name = _bucket_name(resource_id)
        owner, buckets = _listing(clients, region, Prefix=name)
        found = next((b for b in buckets if b.get("Name") == name), None)
        if found is None:
            return None
        return _snapshot(clients, region, found, owner)


COLLECTORS = (BucketCollector(),)
