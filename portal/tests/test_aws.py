"""The AWS boundary against the sandbox: identities, assumed roles, timeouts and stale credentials."""

import pytest

from portal import aws
from sandbox.testing import kit


def test_it_acts_as_the_portal_without_an_account(sandbox):
    identity = aws.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/guardrail-portal"


def test_it_assumes_the_portal_role_in_an_account(sandbox):
    kit("111111111111")
    identity = aws.client("sts", account_id="111111111111", session_name="guardrail-test").get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/GuardrailPortal/guardrail-test"


def test_it_reuses_assumed_credentials(sandbox):
    kit("111111111111")
    first = aws.client("s3", account_id="111111111111")._request_signer._credentials.access_key
    second = aws.client("ec2", account_id="111111111111")._request_signer._credentials.access_key
    assert first == second and first.startswith("ASIA")


def test_it_assumes_again_after_the_credentials_went_stale(sandbox):
    kit("222222222222")
    aws.client("sts", account_id="222222222222").get_caller_identity()
    sandbox.reset()  # the sandbox forgets every session, as after a restart
    kit("222222222222")  # (and every account: the kit again, as `manage.py sandbox` sets it up when it starts)
    with pytest.raises(aws.ClientError) as refused:
        aws.client("sts", account_id="222222222222").get_caller_identity()
    assert aws.error_code(refused.value) == "InvalidClientTokenId"
    assert aws.client("sts", account_id="222222222222").get_caller_identity()["Account"] == "222222222222"


def test_it_refuses_unknown_keys_like_aws(sandbox):
    stranger = aws.client("sts", access_key_id="AKIAUNKNOWNKEY000000", secret_access_key="x")
    with pytest.raises(aws.ClientError) as refused:
        stranger.get_caller_identity()
    assert aws.error_code(refused.value) == "InvalidClientTokenId"


def test_it_fails_fast_when_the_endpoint_is_down(settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    with pytest.raises(aws.EndpointConnectionError):
        aws.client("sts", max_attempts=1).get_caller_identity()


def test_it_knows_real_region_names():
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= aws.known_regions()
    assert "mars-1" not in aws.known_regions()
