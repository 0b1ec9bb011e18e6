"""block_s3_public_access and enable_bucket_encryption against the sandbox AWS."""

import pytest

from remediation.actions import FAILED, SKIPPED, SUCCEEDED, Target
from remediation.actions.storage import BlockS3PublicAccess, EnableBucketEncryption
from remediation.actions.tests.helpers import ACCOUNT, REGION

BUCKET = "AWS::S3::Bucket"
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


@pytest.fixture
def bucket(s3):
    s3.create_bucket(Bucket="data-bucket")
    return "data-bucket"


def _target(name, **details):
    return Target(BUCKET, name, ACCOUNT, REGION, details)


def test_block_public_access_turns_on_all_four(clients, s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False,
                                                                              "RestrictPublicBuckets": False})
    action = BlockS3PublicAccess()
    plan = action.preview(clients, _target(bucket))
    assert (plan.api_call, plan.noop) == ("s3:PutPublicAccessBlock", False)
    assert plan.parameters == {"Bucket": bucket, "PublicAccessBlockConfiguration": ALL_ON}
    assert plan.expected_change == f"Turns on BlockPublicPolicy, RestrictPublicBuckets for the bucket {bucket}"
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert outcome.after["supplementary"]["PublicAccessBlockConfiguration"] == {
        "blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True, "restrictPublicBuckets": True}
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == ALL_ON
    assert action.preview(clients, _target(bucket)).noop


def test_a_bucket_without_any_block_gets_one(clients, bucket):
    plan = BlockS3PublicAccess().preview(clients, _target(f"arn:aws:s3:::{bucket}"))
    assert plan.parameters["Bucket"] == bucket
    assert plan.expected_change.startswith("Turns on BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, ")
    assert plan.calls == [{"api_call": "s3:PutPublicAccessBlock", "parameters": plan.parameters}]


def test_a_bucket_deleted_between_preview_and_apply_fails_with_the_aws_error(clients, s3, bucket):
    action = BlockS3PublicAccess()
    plan = action.preview(clients, _target(bucket))
    s3.delete_bucket(Bucket=bucket)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code, outcome.verified) == (FAILED, "NoSuchBucket", False)
    assert outcome.message == "NoSuchBucket: The specified bucket does not exist"
    assert outcome.before is None


def test_a_block_put_meanwhile_is_skipped(clients, s3, bucket):
    action = BlockS3PublicAccess()
    plan = action.preview(clients, _target(bucket))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_ON)
    assert action.apply(clients, plan).status == SKIPPED


def test_encryption_defaults_to_sse_s3(clients, s3, bucket):
    action = EnableBucketEncryption()
    plan = action.preview(clients, _target(bucket))
    assert (plan.api_call, plan.noop) == ("s3:PutBucketEncryption", False)
    assert plan.parameters == {"Bucket": bucket, "ServerSideEncryptionConfiguration": {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}
    assert not action.verify(clients, _target(bucket))
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert outcome.before["supplementary"]["ServerSideEncryptionConfiguration"] is None
    assert "AES256" in str(outcome.after["supplementary"]["ServerSideEncryptionConfiguration"])
    noop = action.preview(clients, _target(bucket))
    assert noop.noop and noop.expected_change == f"Nothing to do: {bucket} is encrypted by default (AES256)"


def test_encryption_with_a_kms_key(clients, s3, bucket):
    key = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    action = EnableBucketEncryption()
    target = _target(bucket, kms_key_id=key)
    plan = action.preview(clients, target)  # SSE-S3 is not the key asked for
    assert plan.parameters["ServerSideEncryptionConfiguration"] == {"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": True}]}
    assert not action.verify(clients, target)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.verified) == (SUCCEEDED, True)
    assert action.preview(clients, target).noop
    assert action.preview(clients, _target(bucket)).noop  # any default encryption will do without a key


def test_encryption_on_a_deleted_bucket_fails_with_the_aws_error(clients, s3, bucket):
    action = EnableBucketEncryption()
    plan = action.preview(clients, _target(bucket))
    s3.delete_bucket(Bucket=bucket)
    outcome = action.apply(clients, plan)
    assert (outcome.status, outcome.error_code) == (FAILED, "NoSuchBucket")
