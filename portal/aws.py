"""The one boundary to AWS: every boto3 client in Guardrail is built here.

The same code serves real AWS (credentials from the environment or an instance role) and the sandbox
(AWS_ENDPOINT_URL). To act in an account the portal assumes a role there; assumed credentials are
cached until shortly before they expire. No other module imports boto3.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError
from django.conf import settings

__all__ = [
    "AWS_ERRORS",
    "UNREACHABLE_ERRORS",
    "BotoCoreError",
    "ClientError",
    "EndpointConnectionError",
    "answer_lost",
    "client",
    "error_code",
    "identity_as",
    "known_regions",
    "reset_credentials_cache",
    "role_arn",
    "unreachable",
]

# Everything a call to AWS can raise: refusals, transport failures, and answers that do not parse
# (the sandbox answers an unsupported call with an HTML 500 page).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)

_REFRESH_MARGIN_SECONDS = 300
# Answers that mean "these credentials are no longer good": drop cached assumed credentials so the
# next client assumes the role again (after the sandbox restarted, or a session was revoked).
_STALE_CREDENTIAL_CODES = {"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "AuthFailure",
                           "UnrecognizedClientException", "InvalidAccessKeyId"}
_lock = threading.Lock()
_assumed: dict[tuple[str, str, str], "_Credentials"] = {}
# Building a boto3 Session loads botocore's data files (~150 ms); one per thread is reused.
_local = threading.local()


@dataclass(frozen=True)
class _Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expires_at: float


def _config(max_attempts: int | None) -> Config:
    return Config(
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        # total_max_attempts counts the first try (botocore's max_attempts counts only retries: 1 would be 2 calls)
        retries={"mode": "standard", "total_max_attempts": max_attempts or settings.AWS_MAX_ATTEMPTS},
    )


def _session() -> boto3.session.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = boto3.session.Session()
    return session


def _credential_kwargs(creds: _Credentials | None) -> dict[str, str | None]:
    if creds is not None:
        return {"aws_access_key_id": creds.access_key_id, "aws_secret_access_key": creds.secret_access_key,
                "aws_session_token": creds.session_token}
    if settings.AWS_ACCESS_KEY_ID:
        return {"aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
                "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY}
    return {}  # the default chain: environment, profile, instance role


def role_arn(account_id: str, role_name: str | None = None) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name or settings.AWS_PORTAL_ROLE_NAME}"


def _assume(account_id: str, role_name: str, session_name: str) -> _Credentials:
    key = (account_id, role_name, session_name)
    with _lock:
        cached = _assumed.get(key)
        if cached and cached.expires_at - _REFRESH_MARGIN_SECONDS > time.time():
            return cached
    sts = _build("sts", None, settings.AWS_DEFAULT_REGION, None)
    extra = {"ExternalId": settings.AWS_EXTERNAL_ID} if settings.AWS_EXTERNAL_ID else {}
    answer = sts.assume_role(RoleArn=role_arn(account_id, role_name), RoleSessionName=session_name, **extra)
    raw = answer["Credentials"]
    creds = _Credentials(
        access_key_id=raw["AccessKeyId"],
        secret_access_key=raw["SecretAccessKey"],
        session_token=raw["SessionToken"],
        expires_at=raw["Expiration"].timestamp(),
    )
    with _lock:
        _assumed[key] = creds
    return creds


def _build(service: str, creds: _Credentials | None, region: str, max_attempts: int | None,
           cache_key: tuple[str, str, str] | None = None) -> BaseClient:
    built = _session().client(
        service,
        region_name=region,
        endpoint_url=settings.AWS_ENDPOINT_URL or None,
        config=_config(max_attempts),
        **_credential_kwargs(creds),
    )
    if cache_key is not None:
        built.meta.events.register("after-call", _forget_if_stale(cache_key))
    return built


def _forget_if_stale(cache_key: tuple[str, str, str]):
    def handler(parsed: dict, **kwargs: Any) -> None:
        if parsed.get("Error", {}).get("Code") in _STALE_CREDENTIAL_CODES:
            with _lock:
                _assumed.pop(cache_key, None)

    return handler


def client(
    service: str,
    *,
    account_id: str | None = None,
    region: str | None = None,
    role_name: str | None = None,
    session_name: str = "guardrail-portal",
    max_attempts: int | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> BaseClient:
    """A client for `service`.

    With `account_id`, the client acts as `role_name` (default AWS_PORTAL_ROLE_NAME) in that account.
    With explicit keys (and `session_token` for temporary ones), it acts as their owner (the sandbox's
    per-person keys, for example).
    Otherwise it acts as the portal's own identity. `max_attempts=1` for calls with side effects
    that must not be repeated.
    """
    region = region or settings.AWS_DEFAULT_REGION
    if access_key_id:
        creds = _Credentials(access_key_id, secret_access_key or "", session_token, float("inf"))
        return _build(service, creds, region, max_attempts)
    if account_id:
        role = role_name or settings.AWS_PORTAL_ROLE_NAME
        creds = _assume(account_id, role, session_name[:64])
        return _build(service, creds, region, max_attempts, cache_key=(account_id, role, session_name[:64]))
    return _build(service, None, region, max_attempts)


def identity_as(account_id: str, role_name: str, *, session_name: str = "guardrail-check") -> dict[str, Any]:
    """Assume `role_name` in `account_id` (fresh, not cached) and ask STS who that is: proves the role exists,
    trusts the portal's principal with its ExternalId, and lets the portal's principal assume it."""
    reset = (account_id, role_name, session_name[:64])
    with _lock:
        _assumed.pop(reset, None)
    return client("sts", account_id=account_id, role_name=role_name, session_name=session_name,
                  max_attempts=1).get_caller_identity()


def reset_credentials_cache() -> None:
    """Forget assumed-role credentials (after the sandbox was reset, for example)."""
    with _lock:
        _assumed.clear()


# AWS out of reach (no answer at all, rather than a refusal): worth asking again once it is back.
UNREACHABLE_ERRORS = (BotoConnectionError, HTTPClientError, IncompleteReadError)


def answer_lost(exc: BaseException) -> bool:
    """The request went out but no answer came back (the connection broke or timed out): AWS may have carried it
    out. A refused connection (EndpointConnectionError) means it never left."""
    return isinstance(exc, (HTTPClientError, IncompleteReadError))


def _subclasses(kind: type) -> set[type]:
    return {kind}.union(*(_subclasses(sub) for sub in kind.__subclasses__()))


@cache
def _unreachable_codes() -> frozenset[str]:
    return frozenset(kind.__name__ for base in UNREACHABLE_ERRORS for kind in _subclasses(base))


def unreachable(code: str) -> bool:
    """Whether an `error_code` names a failure to reach AWS (EndpointConnectionError, ReadTimeoutError, ...)."""
    return code in _unreachable_codes()


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "ClientError")
    return type(exc).__name__


@cache
def known_regions() -> frozenset[str]:
    """Every region name botocore knows, read offline from its endpoint data."""
    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def endpoint_check(timeout: float = 3.0) -> dict[str, Any]:
    """Ask STS who the portal is: proves the endpoint answers and the credentials work."""
    sts = _session().client(
        "sts",
        region_name=settings.AWS_DEFAULT_REGION,
        endpoint_url=settings.AWS_ENDPOINT_URL or None,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1}),
        **_credential_kwargs(None),
    )
    identity = sts.get_caller_identity()
    return {"account": identity["Account"], "arn": identity["Arn"]}
