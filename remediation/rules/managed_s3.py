"""The S3 rules: public read by ACL or bucket policy, the bucket-level public access block, default encryption.

A bucket's ACL, policy, public access block and encryption are what the recorder keeps in `supplementary`
(AccessControlList {owner, grants}, BucketPolicy {policyText}, PublicAccessBlockConfiguration,
ServerSideEncryptionConfiguration {rules}); keys below them are lowerCamelCased, so a grantee's URI arrives as
"uRI" and an algorithm as "sSEAlgorithm": both spellings (and AWS's own) are read.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    Evaluation,
    Param,
    ResourceView,
)
from remediation.rules.managed_common import ManagedRule, csv_items

__all__ = ["S3BucketLevelPublicAccessProhibited", "S3BucketPublicReadProhibited",
           "S3BucketServerSideEncryptionEnabled", "public_read_grants", "public_read_statements"]

BUCKET = "AWS::S3::Bucket"
PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")
READ_PERMISSIONS = frozenset({"READ", "FULL_CONTROL"})
BLOCK_SETTINGS = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
ENCRYPTIONS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
# Condition keys that do not narrow who may call: a statement conditioned only on these is still public.
_OPEN_CONDITION_KEYS = frozenset({"aws:securetransport", "aws:currenttime", "aws:epochtime", "aws:useragent",
                                  "aws:referer", "s3:x-amz-server-side-encryption"})


def _get(item: Any, *names: str) -> Any:
    """The first of `names` that `item` (a dict) has, in any of the spellings lowerCamelCasing produces."""
    if not isinstance(item, dict):
        return None
    lowered = {str(k).lower(): v for k, v in item.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _block(resource: ResourceView) -> dict[str, Any]:
    return resource.supplementary.get("PublicAccessBlockConfiguration") or {}


def _policy(resource: ResourceView) -> dict[str, Any] | None:
    text = (resource.supplementary.get("BucketPolicy") or {}).get("policyText")
    if isinstance(text, dict):
        return text
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def public_read_grants(acl: dict[str, Any] | None) -> list[str]:
    """"AllUsers READ" for every ACL grant that lets everyone (or any AWS account) read."""
    found = []
    for grant in (acl or {}).get("grants") or []:
        uri = str(_get(_get(grant, "grantee"), "uri") or "")
        group = next((g for g in PUBLIC_GROUPS if uri.endswith("/" + g)), None)
        permission = str(_get(grant, "permission") or "").upper()
        if group and permission in READ_PERMISSIONS:
            found.append(f"{group} {permission}")
    return found


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or (isinstance(value, list) and "*" in value) for value in principal.values())
    return False


def _reads(statement: dict[str, Any]) -> bool:
    """Whether the statement's actions include s3:GetObject (s3:GetObject, s3:Get*, s3:*, * ...)."""
    if "NotAction" in statement:
        return not any(fnmatchcase("s3:getobject", str(a).lower()) for a in _listed(statement["NotAction"]))
    return any(fnmatchcase("s3:getobject", str(a).lower()) for a in _listed(statement.get("Action")))


def _restricted(condition: Any) -> bool:
    if not isinstance(condition, dict) or not condition:
        return False
    keys = {str(key).lower() for block in condition.values() if isinstance(block, dict) for key in block}
    return not keys or not keys <= _OPEN_CONDITION_KEYS


def public_read_statements(policy: dict[str, Any] | None) -> list[str]:
    """The Sid (or position) of every Allow statement that lets anyone GetObject without a narrowing condition."""
    found = []
    for index, statement in enumerate(_listed((policy or {}).get("Statement"))):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if _everyone(statement.get("Principal")) and _reads(statement) and not _restricted(statement.get("Condition")):
            found.append(str(statement.get("Sid") or f"#{index + 1}"))
    return found


class _BucketRule(ManagedRule):
    resource_types = (BUCKET,)


class S3BucketPublicReadProhibited(_BucketRule):
    name = "s3-bucket-public-read-prohibited"
    identifier = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
    description = ("Buckets do not allow public read through their ACL or bucket policy "
                   "(unless the bucket's public access block neutralises it).")

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        extra = resource.supplementary
        if "AccessControlList" not in extra and "BucketPolicy" not in extra:
            return Evaluation(INSUFFICIENT_DATA, "Neither the bucket's ACL nor its policy was recorded")
        block = _block(resource)
        findings = []
        grants = public_read_grants(extra.get("AccessControlList"))
        if grants and not (block.get("blockPublicAcls") or block.get("ignorePublicAcls")):
            findings.append(f"ACL grants {', '.join(grants)}")
        statements = public_read_statements(_policy(resource))
        if statements and not (block.get("blockPublicPolicy") or block.get("restrictPublicBuckets")):
            findings.append(f"bucket policy statement {', '.join(statements)} allows s3:GetObject to *")
        if findings:
            return Evaluation(NON_COMPLIANT, "Public read: " + "; ".join(findings))
        if grants or statements:
            return Evaluation(COMPLIANT, "Public read granted but blocked by the bucket's public access block")
        return Evaluation(COMPLIANT, "Neither the ACL nor the bucket policy allows public read")


class S3BucketLevelPublicAccessProhibited(_BucketRule):
    name = "s3-bucket-level-public-access-prohibited"
    identifier = "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED"
    description = "Every bucket not listed as known-public has all four bucket-level public access block settings on."
    parameters = (Param("excludedPublicBuckets", "csv", description="Buckets allowed to be public, comma-separated"),)

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        name = resource.configuration.get("name") or resource.resource_id
        if name in csv_items(params.get("excludedPublicBuckets")):
            return Evaluation(COMPLIANT, f"{name} is listed in excludedPublicBuckets")
        if "PublicAccessBlockConfiguration" not in resource.supplementary:
            return Evaluation(INSUFFICIENT_DATA, "The bucket's public access block was not recorded")
        block = resource.supplementary.get("PublicAccessBlockConfiguration")
        if not block:
            return Evaluation(NON_COMPLIANT, "The bucket has no public access block")
        off = [setting[:1].upper() + setting[1:] for setting in BLOCK_SETTINGS if block.get(setting) is not True]
        if off:
            return Evaluation(NON_COMPLIANT, f"Public access block settings off: {', '.join(off)}")
        return Evaluation(COMPLIANT, "All four public access block settings are on")


def _denies_unencrypted_puts(policy: dict[str, Any] | None) -> bool:
    """A Deny of s3:PutObject when the request names no (or another) server-side encryption."""
    for statement in _listed((policy or {}).get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        if not any(fnmatchcase("s3:putobject", str(a).lower()) for a in _listed(statement.get("Action"))):
            continue
        for operator, block in (statement.get("Condition") or {}).items():
            keys = {str(k).lower() for k in (block or {})} if isinstance(block, dict) else set()
            if "s3:x-amz-server-side-encryption" in keys and operator.lower() in ("null", "stringnotequals"):
                return True
    return False


class S3BucketServerSideEncryptionEnabled(_BucketRule):
    name = "s3-bucket-server-side-encryption-enabled"
    identifier = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
    description = ("Buckets have default encryption (SSE-S3, SSE-KMS or DSSE-KMS), or a bucket policy that denies "
                   "unencrypted PutObject.")

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        extra = resource.supplementary
        if "ServerSideEncryptionConfiguration" not in extra:
            return Evaluation(INSUFFICIENT_DATA, "The bucket's encryption configuration was not recorded")
        for rule in (extra.get("ServerSideEncryptionConfiguration") or {}).get("rules") or []:
            default = _get(rule, "applyServerSideEncryptionByDefault") or {}
            algorithm = str(_get(default, "sseAlgorithm") or "")
            if algorithm in ENCRYPTIONS:
                return Evaluation(COMPLIANT, f"Default encryption {algorithm}")
        if _denies_unencrypted_puts(_policy(resource)):
            return Evaluation(COMPLIANT, "The bucket policy denies PutObject without server-side encryption")
        return Evaluation(NON_COMPLIANT, "No default server-side encryption")
