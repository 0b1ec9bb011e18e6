"""Test helpers for anything that needs the sandbox AWS: an in-process server on a free port.

In a conftest.py:

    from sandbox.testing import sandbox, sandbox_server  # noqa: F401  (registers the fixtures)

`sandbox_server` starts one server per test session; `sandbox` resets it before the test (every account
emptied, buffered records and cached credentials forgotten), points settings.AWS_ENDPOINT_URL at it for
the test and yields the SandboxServer. It enforces the callers' IAM policies, as AWS does and as `make run`
runs the sandbox (`enforced_sandbox` is the same fixture under its older name): the portal's own user may only
assume the kit's roles, and each role may only do what the kit grants it, so a permission the portal's code
needs and the kit lacks fails the test as it would fail in AWS. A test therefore sets its accounts up as they
would be in AWS: `kit(account_id, ...)` deploys the account kit there (the member kit's stack, and the
management kit's in the management account; the organisation membership first), `bootstrap_from_portal()` the
whole demo set-up (the kit, AWS Config, the people's IAM users). What a person did in an account before the
portal looks, the test does as that person (`as_person`) or as the account's administrator (`operator_clients`,
`start_trail`: the sandbox's operator, through the OrganizationAccountAccessRole), never as the portal.
`update_kit(account, Parameter=value)` changes the member kit's parameters as the account's administrator does.
`stacks_besides_kit` lists an account's stacks without the kit's own. `trail_records(bucket)` reads the
delivered CloudTrail files. `running_sandbox()` is the same as a context manager, for scripts and module-scoped
fixtures. Both write VPC flow-log files only when told (`server.flowlogs.flush()`), so a test knows which file
is which.
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
    """A bucket and a started trail in `account_id`, made by the account's administrator (the operator, as a
    person does in the console; `operator_clients`); returns the bucket."""
    bucket = bucket or f"test-trail-{account_id}"
    clients = operator_clients(account_id)
    clients("s3").create_bucket(Bucket=bucket)
    cloudtrail = clients("cloudtrail")
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
        enforce_iam=True,
        account_setup=setup_member_account,
    ).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _pointed_at(server: SandboxServer) -> Iterator[SandboxServer]:
    previous = settings.AWS_ENDPOINT_URL
    server.enforce_iam = True
    reset_sandbox(server)
    try:
        yield server
    finally:
        settings.AWS_ENDPOINT_URL = previous
        aws.reset_credentials_cache()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session's server, emptied, with settings.AWS_ENDPOINT_URL pointing at it for this test, refusing every
    call the caller's IAM policies do not allow. Its accounts are empty: give the ones the test uses the kit
    (`kit`, or `bootstrap_from_portal()`); what people did there is done as them or their administrator
    (`as_person`, `operator_clients`)."""
    with _pointed_at(sandbox_server) as server:
        yield server


@pytest.fixture
def enforced_sandbox(sandbox: SandboxServer) -> SandboxServer:
    """The same as `sandbox` (which enforces IAM policies in every test); the name some tests use."""
    return sandbox


def kit(*account_ids: str) -> None:
    """Each account as the platform team leaves it after deploying the account kit (sandbox.bootstrap.deploy_kit):
    a member of the organisation (the management account is the organisation's) with the member kit's stack (the
    management kit's too in the management account): the Guardrail roles, the trail guardrail-trail with its
    bucket and queue. No AWS Config (the account's own: `bootstrap_from_portal` sets it up too). Safe to call
    again."""
    from sandbox.bootstrap import AccountSpec, BootstrapSummary, deploy_kit

    for account_id in dict.fromkeys(account_ids):
        deploy_kit(AccountSpec(account_id, settings.AWS_PORTAL_ROLE_NAME, name=f"account-{account_id}"),
                   BootstrapSummary())


def update_kit(account_id: str, **parameters: str) -> None:
    """The account's administrator updates the member kit's stack (guardrail-member-account) with the kit's template
    and these parameter values, the others as they were, as a platform team does in the console or its StackSet
    (`TrailNotificationSourceArn=<topic or rule ARN>`, `TrailMode="Organization", OrganizationTrailBucket=...`)."""
    from sandbox.bootstrap import KIT_DIR, MEMBER_STACK, _wait

    cfn = operator_clients(account_id)("cloudformation")
    known = [p["ParameterKey"] for p in cfn.describe_stacks(StackName=MEMBER_STACK)["Stacks"][0]["Parameters"]]
    values = [{"ParameterKey": key, "ParameterValue": parameters[key]} if key in parameters else
              {"ParameterKey": key, "UsePreviousValue": True} for key in dict.fromkeys([*known, *parameters])]
    cfn.update_stack(StackName=MEMBER_STACK, TemplateBody=(KIT_DIR / f"{MEMBER_STACK}.yaml").read_text(),
                     Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=values)
    _wait(cfn, MEMBER_STACK, "stack_update_complete")


def stacks_besides_kit(account_id: str, region: str | None = None) -> list[dict[str, Any]]:
    """The account's stacks in `region` but the kit's own (guardrail-member-account, guardrail-management-account),
    read as the portal's reader role."""
    from sandbox.bootstrap import MANAGEMENT_STACK, MEMBER_STACK

    stacks = aws.client("cloudformation", account_id=account_id, region=region).describe_stacks()["Stacks"]
    return [stack for stack in stacks if stack["StackName"] not in (MEMBER_STACK, MANAGEMENT_STACK)]


def member(*account_ids: str) -> None:
    """Each account a member of the sandbox's organisation, with its OrganizationAccountAccessRole (no kit): an
    account that exists, which its administrator reaches (`operator_clients`). The management account is one."""
    from sandbox.organization import ensure_member_account

    for account_id in dict.fromkeys(account_ids):
        if account_id != settings.AWS_MANAGEMENT_ACCOUNT_ID:
            ensure_member_account(account_id, f"account-{account_id}", f"aws+{account_id}@example.com",
                                  management_account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID,
                                  region=settings.AWS_DEFAULT_REGION)


def operator_clients(account_id: str, default_region: str = "us-east-1"):
    """`clients(service, region)` acting as the account's administrator (the sandbox's operator, through the
    OrganizationAccountAccessRole in a member account; the account is made a member if it is not one): for a
    test's set-up, what a person does in the account by hand."""
    from sandbox.operator import operator_credentials

    member(account_id)
    credentials = operator_credentials(account_id)
    built: dict[tuple[str, str], Any] = {}

    def clients(service: str, region: str | None = None):
        region = default_region if region in (None, "global", "") else region
        if (service, region) not in built:
            built[service, region] = aws.client(service, region=region, **credentials)
        return built[service, region]

    return clients


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


def account_clients(account_id: str, default_region: str = "us-east-1", *, role_name: str | None = None):
    """`clients(service, region)` acting as the portal's role in `account_id` (`role_name`, default the reader role
    AWS_PORTAL_ROLE_NAME; the remediation actions act as AWS_REMEDIATION_ROLE_NAME), one client per pair; the
    recorder's "global" region (IAM) mapped to `default_region`, as the recorder maps it. The account needs the
    kit (`kit`)."""
    built: dict[tuple[str, str], Any] = {}

    def clients(service: str, region: str):
        region = default_region if region in ("global", "") else region
        if (service, region) not in built:
            built[service, region] = aws.client(service, account_id=account_id, region=region, role_name=role_name)
        return built[service, region]

    return clients
