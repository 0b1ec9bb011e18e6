"""S3 actions: block a bucket's public access, turn on its default encryption.

Both read the bucket's setting directly (S3 answers NoSuchBucket for a bucket that is gone, which then becomes
the FAILED outcome's error) and verify with the recorder's bucket collector, whose supplementary configuration
holds PublicAccessBlockConfiguration and ServerSideEncryptionConfiguration as AWS Config shows them (keys in
lowerCamelCase; None when the bucket has none). A plan from a recorded item reads the same two entries there.
"""

from __future__ import annotations

from typing import Any

from audit.config.base import Clients, error_code
from audit.config.collectors.s3 import BucketCollector
from remediation.actions.base import Action, Plan, Target

__all__ = ["BlockS3PublicAccess", "EnableBucketEncryption", "bucket_name"]

BUCKET = "AWS::S3::Bucket"
BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
SSE_S3 = "AES256"
SSE_KMS = "aws:kms"

_NO_PUBLIC_ACCESS_BLOCK = frozenset({"NoSuchPublicAccessBlockConfiguration"})
_NO_ENCRYPTION = frozenset({"ServerSideEncryptionConfigurationNotFoundError"})


def bucket_name(resource_id: str) -> str:
    """A bucket's name, also from ``arn:aws:s3:::name``."""
    return resource_id.split(":::", 1)[1] if resource_id.startswith("arn:") and ":::" in resource_id else resource_id


def _read(operation: Any, absent: frozenset[str], **kwargs: Any) -> dict[str, Any] | None:
    """One bucket setting; None when S3 says the bucket has none (any other error, NoSuchBucket too, raises)."""
    try:
        return operation(**kwargs)
    except Exception as exc:
        if error_code(exc) in absent:
            return None
        raise


def _lower(key: str) -> str:
    return key[:1].lower() + key[1:]


def _recorded_setting(recorded: dict[str, Any], key: str) -> tuple[bool, Any]:
    """(whether the item tells, the bucket's `key` setting in its supplementary configuration or None).

    The recorder's bucket collector writes every key (None: the bucket has none of it); AWS Config's own items
    leave out a setting the bucket lacks. Only an item without any supplementary configuration does not tell."""
    supplementary = recorded.get("supplementary")
    if not isinstance(supplementary, dict) or not supplementary:
        return False, None
    return True, supplementary.get(key)


class BlockS3PublicAccess(Action):
    name = "block_s3_public_access"
    title = "Block S3 public access"
    api_call = "s3:PutPublicAccessBlock"
    resource_types = (BUCKET,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        bucket = bucket_name(target.resource_id)
        answer = _read(clients("s3", target.region).get_public_access_block, _NO_PUBLIC_ACCESS_BLOCK, Bucket=bucket)
        return self._plan_from(target, (answer or {}).get("PublicAccessBlockConfiguration"))

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From supplementary.PublicAccessBlockConfiguration ({blockPublicAcls, ...}; None: no block)."""
        if recorded is None:
            return self.nothing_recorded(target)
        told, block = _recorded_setting(recorded, "PublicAccessBlockConfiguration")
        if not told:
            return self.not_recorded(target, "supplementary configuration (PublicAccessBlockConfiguration)")
        return self._plan_from(target, block)

    def _plan_from(self, target: Target, block: Any) -> Plan:
        """The plan for the bucket whose public access block is `block` (S3's keys or Config's; None: none)."""
        bucket = bucket_name(target.resource_id)
        off = [setting for setting in BLOCK_SETTINGS if not _get(block, setting)]
        if not off:
            return self.noop_plan(target, f"Nothing to do: every public access block setting of {bucket} is on")
        call = self.call(self.api_call, Bucket=bucket,
                         PublicAccessBlockConfiguration={setting: True for setting in BLOCK_SETTINGS})
        return self.make_plan(target, [call], f"Turns on {', '.join(off)} for the bucket {bucket}")

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = BucketCollector().get(clients, target.region, bucket_name(target.resource_id))
        if snapshot is None:
            return False
        block = snapshot.supplementary.get("PublicAccessBlockConfiguration") or {}
        return all(block.get(_lower(setting)) is True for setting in BLOCK_SETTINGS)


def _get(item: Any, key: str) -> Any:
    """`key` of a dict whatever the case of its letters (S3's "SSEAlgorithm" is Config's "sSEAlgorithm")."""
    if not isinstance(item, dict):
        return None
    return next((value for name, value in item.items() if str(name).lower() == key.lower()), None)


def _satisfies(configuration: Any, kms_key: str) -> str:
    """The algorithm of the rule that already gives the wanted default encryption, or ""."""
    for rule in _get(configuration, "Rules") or []:
        default = _get(rule, "ApplyServerSideEncryptionByDefault") or {}
        algorithm = str(_get(default, "SSEAlgorithm") or "")
        if not algorithm:
            continue
        if not kms_key or (algorithm.startswith(SSE_KMS) and _get(default, "KMSMasterKeyID") == kms_key):
            return algorithm
    return ""


class EnableBucketEncryption(Action):
    """details: "kms_key_id" (optional): SSE-KMS with this key; SSE-S3 (AES256) otherwise. Without a key, any
    default encryption already there (SSE-S3 or SSE-KMS) is enough."""

    name = "enable_bucket_encryption"
    title = "Enable bucket encryption"
    api_call = "s3:PutBucketEncryption"
    resource_types = (BUCKET,)

    def plan(self, clients: Clients, target: Target) -> Plan:
        answer = _read(clients("s3", target.region).get_bucket_encryption, _NO_ENCRYPTION,
                       Bucket=bucket_name(target.resource_id))
        return self._plan_from(target, (answer or {}).get("ServerSideEncryptionConfiguration"))

    def plan_recorded(self, target: Target, recorded: dict[str, Any] | None) -> Plan:
        """From supplementary.ServerSideEncryptionConfiguration ({rules: [...]}; None: no default encryption)."""
        if recorded is None:
            return self.nothing_recorded(target)
        told, encryption = _recorded_setting(recorded, "ServerSideEncryptionConfiguration")
        if not told:
            return self.not_recorded(target, "supplementary configuration (ServerSideEncryptionConfiguration)")
        return self._plan_from(target, encryption)

    def _plan_from(self, target: Target, encryption: Any) -> Plan:
        """The plan for the bucket whose default encryption is `encryption` (S3's keys or Config's; None: none)."""
        bucket = bucket_name(target.resource_id)
        kms_key = str(target.details.get("kms_key_id") or "")
        found = _satisfies(encryption, kms_key)
        if found:
            return self.noop_plan(target, f"Nothing to do: {bucket} is encrypted by default ({found})")
        default = {"SSEAlgorithm": SSE_KMS, "KMSMasterKeyID": kms_key} if kms_key else {"SSEAlgorithm": SSE_S3}
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
        if kms_key:
            rule["BucketKeyEnabled"] = True
        call = self.call(self.api_call, Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
        how = f"SSE-KMS with the key {kms_key}" if kms_key else "SSE-S3 (AES256)"
        return self.make_plan(target, [call], f"Sets the default encryption of the bucket {bucket} to {how}")

    def verify(self, clients: Clients, target: Target) -> bool:
        snapshot = BucketCollector().get(clients, target.region, bucket_name(target.resource_id))
        if snapshot is None:
            return False
        configuration = snapshot.supplementary.get("ServerSideEncryptionConfiguration")
        kms_key = str(target.details.get("kms_key_id") or "")
        return bool(_satisfies(configuration, kms_key))
