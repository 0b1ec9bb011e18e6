"""The S3 rules: on hand-written supplementary data, and on buckets made in the sandbox AWS and read through the
recorder's bucket collector."""

import json

import pytest

from audit.config.collectors import s3 as collectors
from portal import aws
from sandbox.testing import kit, operator_clients
from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    Evaluation,
    ResourceView,
)
from remediation.rules.managed import rule_by_name
from remediation.rules.managed_s3 import public_read_grants, public_read_statements

ACCOUNT = "111111111111"
REGION = "us-east-1"
PUBLIC_READ = rule_by_name("s3-bucket-public-read-prohibited")
BUCKET_LEVEL = rule_by_name("s3-bucket-level-public-access-prohibited")
ENCRYPTED = rule_by_name("s3-bucket-server-side-encryption-enabled")
ALL_BLOCKED = {"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True,
               "restrictPublicBuckets": True}
OWNER = {"grantee": {"iD": "abc", "type": "CanonicalUser"}, "permission": "FULL_CONTROL"}


def grant(group, permission="READ", key="uRI"):
    return {"grantee": {"type": "Group", key: f"http://acs.amazonaws.com/groups/global/{group}"},
            "permission": permission}


def statement(principal="*", action="s3:GetObject", effect="Allow", **more):
    return {"Sid": "Open", "Effect": effect, "Principal": principal, "Action": action,
            "Resource": "arn:aws:s3:::b/*", **more}


def bucket(grants=(), statements=None, block=None, encryption=None, name="b") -> ResourceView:
    policy = None if statements is None else json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    supplementary = {
        "AccessControlList": {"owner": {"iD": "abc"}, "grants": [OWNER, *grants]},
        "BucketPolicy": {"policyText": policy},
        "PublicAccessBlockConfiguration": block,
        "ServerSideEncryptionConfiguration": encryption,
    }
    return ResourceView("AWS::S3::Bucket", name, ACCOUNT, REGION, {"name": name}, supplementary=supplementary)


# ------------------------------------------------------------------------------------------- public read


@pytest.mark.parametrize("grants, found", [
    ([grant("AllUsers")], ["AllUsers READ"]),
    ([grant("AuthenticatedUsers", "FULL_CONTROL")], ["AuthenticatedUsers FULL_CONTROL"]),
    ([grant("AllUsers", key="URI")], ["AllUsers READ"]),
    ([grant("AllUsers", "WRITE"), grant("AllUsers", "READ_ACP"), grant("LogDelivery", "READ")], []),
])
def test_public_read_grants(grants, found):
    assert public_read_grants({"grants": [OWNER, *grants]}) == found


@pytest.mark.parametrize("item, public", [
    (statement(), True),
    (statement({"AWS": "*"}, "s3:*"), True),
    (statement({"AWS": ["*"]}, ["s3:PutObject", "s3:Get*"]), True),
    (statement(action="*"), True),
    (statement(Condition={"Bool": {"aws:SecureTransport": "true"}}), True),
    (statement(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), False),
    (statement(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-123"}}), False),
    (statement({"AWS": "arn:aws:iam::222222222222:root"}), False),
    (statement(action="s3:PutObject"), False),
    (statement(effect="Deny"), False),
    ({"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject", "Resource": "*"}, True),
])
def test_public_read_statements(item, public):
    assert bool(public_read_statements({"Statement": [item]})) is public
    assert bool(public_read_statements({"Statement": item})) is public  # a lone statement, not in a list


def test_public_read_prohibited_by_acl_or_policy_unless_blocked():
    acl = PUBLIC_READ.evaluate(bucket([grant("AllUsers")]), {})
    assert acl == Evaluation(NON_COMPLIANT, "Public read: ACL grants AllUsers READ")
    policy = PUBLIC_READ.evaluate(bucket(statements=[statement()]), {})
    assert policy == Evaluation(NON_COMPLIANT, "Public read: bucket policy statement Open allows s3:GetObject to *")
    both = PUBLIC_READ.evaluate(bucket([grant("AuthenticatedUsers")], [statement()]), {})
    assert both.status == NON_COMPLIANT and "ACL grants AuthenticatedUsers READ; bucket policy" in both.annotation
    # the public access block: the ACL settings neutralise grants, the policy settings neutralise policies
    assert PUBLIC_READ.evaluate(bucket([grant("AllUsers")], block={"ignorePublicAcls": True}), {}).status == COMPLIANT
    assert PUBLIC_READ.evaluate(bucket([grant("AllUsers")], block={"blockPublicAcls": True}), {}).status == COMPLIANT
    assert PUBLIC_READ.evaluate(bucket([grant("AllUsers")], block={"blockPublicPolicy": True}), {}).status == (
        NON_COMPLIANT)
    blocked = PUBLIC_READ.evaluate(bucket(statements=[statement()], block={"restrictPublicBuckets": True}), {})
    assert blocked == Evaluation(COMPLIANT, "Public read granted but blocked by the bucket's public access block")
    private = PUBLIC_READ.evaluate(bucket(), {})
    assert private == Evaluation(COMPLIANT, "Neither the ACL nor the bucket policy allows public read")
    unknown = ResourceView("AWS::S3::Bucket", "b", ACCOUNT, REGION, {"name": "b"})
    assert PUBLIC_READ.evaluate(unknown, {}).status == INSUFFICIENT_DATA


# ------------------------------------------------------------------------------------------- bucket level


def test_bucket_level_public_access_prohibited():
    assert BUCKET_LEVEL.evaluate(bucket(block=ALL_BLOCKED), {}) == Evaluation(
        COMPLIANT, "All four public access block settings are on")
    assert BUCKET_LEVEL.evaluate(bucket(), {}) == Evaluation(NON_COMPLIANT, "The bucket has no public access block")
    partly = BUCKET_LEVEL.evaluate(bucket(block=ALL_BLOCKED | {"blockPublicPolicy": False,
                                                               "restrictPublicBuckets": False}), {})
    assert partly == Evaluation(NON_COMPLIANT, "Public access block settings off: BlockPublicPolicy, "
                                               "RestrictPublicBuckets")
    excluded = BUCKET_LEVEL.evaluate(bucket(name="www"), {"excludedPublicBuckets": "assets, www"})
    assert excluded == Evaluation(COMPLIANT, "www is listed in excludedPublicBuckets")
    assert BUCKET_LEVEL.evaluate(bucket(name="data"), {"excludedPublicBuckets": "www"}).status == NON_COMPLIANT
    unknown = ResourceView("AWS::S3::Bucket", "b", ACCOUNT, REGION, {"name": "b"})
    assert BUCKET_LEVEL.evaluate(unknown, {}).status == INSUFFICIENT_DATA


# ------------------------------------------------------------------------------------------- encryption


@pytest.mark.parametrize("algorithm", ["AES256", "aws:kms", "aws:kms:dsse"])
def test_default_encryption_is_compliant(algorithm):
    rules = {"rules": [{"applyServerSideEncryptionByDefault": {"sSEAlgorithm": algorithm}}]}
    assert ENCRYPTED.evaluate(bucket(encryption=rules), {}) == Evaluation(COMPLIANT, f"Default encryption {algorithm}")


def test_no_default_encryption_is_not_unless_the_policy_denies_unencrypted_puts():
    assert ENCRYPTED.evaluate(bucket(), {}) == Evaluation(NON_COMPLIANT, "No default server-side encryption")
    deny = statement("*", "s3:PutObject", "Deny", Condition={"Null": {"s3:x-amz-server-side-encryption": "true"}})
    assert ENCRYPTED.evaluate(bucket(statements=[deny]), {}).status == COMPLIANT
    unknown = ResourceView("AWS::S3::Bucket", "b", ACCOUNT, REGION, {"name": "b"})
    assert ENCRYPTED.evaluate(unknown, {}).status == INSUFFICIENT_DATA


# ------------------------------------------------------------------------------------------- in the sandbox


def clients(service, region):
    return aws.client(service, account_id=ACCOUNT, region=REGION if region == "global" else region)


def recorded(name) -> ResourceView:
    snapshot = collectors.BucketCollector().get(clients, "global", name)
    return ResourceView(snapshot.resource_type, snapshot.resource_id, ACCOUNT, snapshot.region,
                        snapshot.configuration, supplementary=snapshot.supplementary, tags=snapshot.tags)


def test_recorded_buckets_in_the_sandbox(sandbox):
    kit(ACCOUNT)
    s3 = operator_clients(ACCOUNT, REGION)("s3", REGION)  # the buckets people make; the recorder reads them
    for name in ("rules-private", "rules-public-acl", "rules-authenticated", "rules-public-policy",
                 "rules-narrow-policy", "rules-blocked", "rules-encrypted"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket="rules-public-acl", ACL="public-read")
    s3.put_bucket_acl(Bucket="rules-authenticated", ACL="authenticated-read")
    s3.put_bucket_policy(Bucket="rules-public-policy", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::rules-public-policy/*"}]}))
    s3.put_bucket_policy(Bucket="rules-narrow-policy", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::rules-narrow-policy/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}))
    s3.put_bucket_acl(Bucket="rules-blocked", ACL="public-read")
    s3.put_public_access_block(Bucket="rules-blocked", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket="rules-encrypted", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})

    expected = {  # public read, bucket level
        "rules-private": (COMPLIANT, NON_COMPLIANT),
        "rules-public-acl": (NON_COMPLIANT, NON_COMPLIANT),
        "rules-authenticated": (NON_COMPLIANT, NON_COMPLIANT),
        "rules-public-policy": (NON_COMPLIANT, NON_COMPLIANT),
        "rules-narrow-policy": (COMPLIANT, NON_COMPLIANT),
        "rules-blocked": (COMPLIANT, COMPLIANT),
    }
    for name, statuses in expected.items():
        resource = recorded(name)
        assert (PUBLIC_READ.evaluate(resource, {}).status, BUCKET_LEVEL.evaluate(resource, {}).status) == statuses, name
    assert PUBLIC_READ.evaluate(recorded("rules-public-acl"), {}).annotation == "Public read: ACL grants AllUsers READ"
    assert "AuthenticatedUsers READ" in PUBLIC_READ.evaluate(recorded("rules-authenticated"), {}).annotation
    assert "statement Everyone" in PUBLIC_READ.evaluate(recorded("rules-public-policy"), {}).annotation
    assert BUCKET_LEVEL.evaluate(recorded("rules-public-acl"), {"excludedPublicBuckets": "rules-public-acl"}).status == (
        COMPLIANT)

    assert ENCRYPTED.evaluate(recorded("rules-encrypted"), {}) == Evaluation(COMPLIANT, "Default encryption aws:kms")
    plain = recorded("rules-private")
    assert plain.supplementary["ServerSideEncryptionConfiguration"] is None  # the sandbox has no default SSE-S3
    assert ENCRYPTED.evaluate(plain, {}) == Evaluation(NON_COMPLIANT, "No default server-side encryption")
