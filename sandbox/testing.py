"""Test helpers for anything that needs the sandbox AWS: an in-process server on a free port.

In a conftest.py:

    from sandbox.testing import sandbox, sandbox_server  # noqa: F401  (registers the fixtures)

`sandbox_server` starts one server per test session; `sandbox` resets it before the test (every account
emptied, buffered records and cached credentials forgotten), points settings.AWS_ENDPOINT_URL at it for
the test and yields the SandboxServer. `trail_records(bucket)` reads the delivered CloudTrail files.
`running_sandbox()` is the same as a context manager, for scripts and module-scoped fixtures.
Both write VPC flow-log files only when told (`server.flowlogs.flush()`), so a test knows which file is which.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings

from portal import aws
from sandbox.server import SandboxServer

SAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "samples"))


@contextmanager
def running_sandbox(**options: Any) -> Iterator[SandboxServer]:
    """Start a SandboxServer on a free port, point the portal's AWS boundary at it, stop it afterwards."""
    server = SandboxServer(
        options.pop("host", "127.0.0.1"), options.pop("port", 0),
        portal_access_key=settings.AWS_ACCESS_KEY_ID,
        portal_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        management_account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
        flush_seconds=options.pop("flush_seconds", settings.SANDBOX_CLOUDTRAIL_FLUSH_SECONDS),
        flowlog_seconds=options.pop("flowlog_seconds", 0),
        **options,
    )
    server.start()
    previous = settings.AWS_ENDPOINT_URL
    settings.AWS_ENDPOINT_URL = server.endpoint
    aws.reset_credentials_cache()
    try:
        yield server
    finally:
        settings.AWS_ENDPOINT_URL = previous
        aws.reset_credentials_cache()
        server.stop()


def deliver(server: SandboxServer) -> None:
    """Write the sandbox's buffered CloudTrail records as files and let the portal ingest every one (with eager
    tasks, everything the ingest starts runs too)."""
    from audit.tasks import cloudtrail_poll

    server.flush()
    while cloudtrail_poll():
        pass


def reset_sandbox(server: SandboxServer) -> None:
    """Empty every account and forget assumed-role credentials the portal had cached (they died with moto's state)."""
    server.reset()
    settings.AWS_ENDPOINT_URL = server.endpoint
    aws.reset_credentials_cache()


def trail_files(bucket: str) -> dict[str, list[dict[str, Any]]]:
    """Every CloudTrail file in `bucket` (read from moto in-process, so reading is not itself an API call)."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return {}
    partition, account_id = owner
    found = {}
    for key in list(s3_backends[account_id][partition].get_bucket(bucket).keys.values()):
        if key.name.endswith(".json.gz") and "/CloudTrail/" in key.name:
            found[key.name] = json.loads(gzip.decompress(key.value))["Records"]
    return found


def trail_records(bucket: str, server: SandboxServer | None = None) -> list[dict[str, Any]]:
    """All delivered records in `bucket`, oldest first (flushing `server` first when given)."""
    if server is not None:
        server.flush()
    records = [record for records in trail_files(bucket).values() for record in records]
    return sorted(records, key=lambda r: r["eventTime"])


def start_trail(account_id: str, *, name: str = "test-trail", bucket: str | None = None, prefix: str = "",
                multi_region: bool = True) -> str:
    """A bucket and a started trail in `account_id` (through the portal's role there); returns the bucket."""
    bucket = bucket or f"test-trail-{account_id}"
    s3 = aws.client("s3", account_id=account_id)
    s3.create_bucket(Bucket=bucket)
    cloudtrail = aws.client("cloudtrail", account_id=account_id)
    options: dict[str, Any] = {"S3KeyPrefix": prefix} if prefix else {}
    cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region, **options)
    cloudtrail.start_logging(Name=name)
    return bucket


def samples_path(*parts: str) -> str:
    """A file in the shared sample data, or skip the test when this machine does not have it."""
    path = os.path.join(SAMPLES, *parts)
    if not os.path.exists(path):
        pytest.skip(f"the shared sample data is absent here ({path})")
    return path


# Whether the `sandbox` fixture enforces callers' IAM policies (`enforced_sandbox` always does). Off: many tests
# act in accounts they never bootstrapped (no GuardrailPortal role there to assume) or as the portal's own user.
# GUARDRAIL_TEST_ENFORCE_IAM=1 turns it on, to see what a suite would need.
ENFORCE_BY_DEFAULT = os.environ.get("GUARDRAIL_TEST_ENFORCE_IAM", "") == "1"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One server for the whole session (settings are pointed at it only inside `sandbox`)."""
    from sandbox.bootstrap import setup_member_account

    server = SandboxServer(
        portal_access_key=settings.AWS_ACCESS_KEY_ID,
        portal_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        management_account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
        flush_seconds=settings.SANDBOX_CLOUDTRAIL_FLUSH_SECONDS,
        flowlog_seconds=0,
        enforce_iam=ENFORCE_BY_DEFAULT,
        account_setup=setup_member_account,
    ).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _pointed_at(server: SandboxServer, enforce_iam: bool) -> Iterator[SandboxServer]:
    previous, previous_enforce = settings.AWS_ENDPOINT_URL, server.enforce_iam
    server.enforce_iam = enforce_iam
    reset_sandbox(server)
    try:
        yield server
    finally:
        server.enforce_iam = previous_enforce
        settings.AWS_ENDPOINT_URL = previous
        aws.reset_credentials_cache()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session's server, emptied, with settings.AWS_ENDPOINT_URL pointing at it for this test."""
    with _pointed_at(sandbox_server, ENFORCE_BY_DEFAULT) as server:
        yield server


@pytest.fixture
def enforced_sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """`sandbox`, refusing every call the caller's IAM policies do not allow (as `manage.py sandbox` runs)."""
    with _pointed_at(sandbox_server, True) as server:
        yield server


def as_person(username: str):
    """`clients(service)` acting with `username`'s own sandbox keys (as `sandbox_credentials` prints them), so
    the calls show up in CloudTrail under that person's name. The sandbox must be bootstrapped."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("sandbox_credentials", username, stdout=out)
    creds = dict(line.split("=", 1) for line in out.getvalue().split())

    def clients(service: str, region: str | None = None):
        return aws.client(service, region=region, access_key_id=creds["AWS_ACCESS_KEY_ID"],
                          secret_access_key=creds["AWS_SECRET_ACCESS_KEY"])

    return clients


def account_clients(account_id: str, default_region: str = "us-east-1"):
    """`clients(service, region)` acting as the portal's role in `account_id`, one client per pair; the recorder's
    "global" region (IAM) mapped to `default_region`, as the recorder maps it."""
    built: dict[tuple[str, str], Any] = {}

    def clients(service: str, region: str):
        region = default_region if region in ("global", "") else region
        if (service, region) not in built:
            built[service, region] = aws.client(service, account_id=account_id, region=region)
        return built[service, region]

    return clients
