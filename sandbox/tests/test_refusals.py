"""Unknown keys and unsigned requests are refused as AWS refuses them, in each protocol's error format."""

import json
import urllib.error
import urllib.request

import pytest

from portal import aws

BOGUS = {"access_key_id": "AKIAUNKNOWNKEY000000", "secret_access_key": "nope"}


@pytest.mark.parametrize(("service", "call", "code"), [
    ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId"),
    ("iam", lambda c: c.list_users(), "InvalidClientTokenId"),
    ("cloudformation", lambda c: c.list_stacks(), "InvalidClientTokenId"),
    ("cloudtrail", lambda c: c.describe_trails(), "UnrecognizedClientException"),
    ("config", lambda c: c.describe_configuration_recorders(), "UnrecognizedClientException"),
    ("sqs", lambda c: c.list_queues(), "UnrecognizedClientException"),
    ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException"),
    ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId"),
    ("ec2", lambda c: c.describe_vpcs(), "AuthFailure"),
])
def test_it_refuses_an_unknown_key(sandbox, service, call, code):
    with pytest.raises(aws.ClientError) as caught:
        call(aws.client(service, max_attempts=1, **BOGUS))
    assert aws.error_code(caught.value) == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in (401, 403)


def test_it_refuses_a_deleted_key_and_accepts_a_new_one(sandbox):
    from sandbox.operator import operator_client

    iam = operator_client("iam", sandbox.management_account_id)  # the administrator gives Carol a key
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    own = aws.client("sts", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
    assert own.get_caller_identity()["Arn"].endswith(":user/carol")
    iam.delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(aws.ClientError) as caught:
        own.get_caller_identity()
    assert aws.error_code(caught.value) == "InvalidClientTokenId"


def _raw(sandbox, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(sandbox.endpoint + path, data=data, headers=headers or {},
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_it_refuses_unsigned_requests(sandbox):
    status, body = _raw(sandbox, "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"MissingAuthenticationToken" in body
    status, body = _raw(sandbox, "/", b"{}", {"Content-Type": "application/x-amz-json-1.1",
                                             "X-Amz-Target": "CloudTrail_20131101.DescribeTrails"})
    assert status == 403 and b"MissingAuthenticationTokenException" in body
    status, body = _raw(sandbox, "/some-bucket")
    assert status == 403 and b"AccessDenied" in body


def test_it_lets_the_moto_api_through_and_a_reset_over_http_clears_the_buffers(sandbox):
    status, body = _raw(sandbox, "/moto-api/data.json")
    assert status == 200 and json.loads(body) is not None
    from sandbox.testing import start_trail

    start_trail("111111111111")
    sandbox.flush()
    assert sandbox.writer.delivered
    status, _ = _raw(sandbox, "/moto-api/reset", b"")
    assert status == 200
    assert not sandbox.writer._pending and not sandbox.writer.delivered
    aws.reset_credentials_cache()
    assert aws.client("sts").get_caller_identity()["Arn"].endswith(":user/guardrail-portal")


def test_it_refuses_a_head_request_without_a_body(sandbox):
    s3 = aws.client("s3", max_attempts=1, **BOGUS)
    for _ in range(2):  # the same keep-alive connection must stay usable
        with pytest.raises(aws.ClientError) as caught:
            s3.head_bucket(Bucket="anything")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(aws.ClientError) as caught:
        s3.list_buckets()
    assert aws.error_code(caught.value) == "InvalidAccessKeyId"
