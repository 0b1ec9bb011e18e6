"""Member accounts of the sandbox's organisation, made in moto's own state (in the sandbox server's process).

`ensure_member_account` is what AWS Organizations' CreateAccount gives a platform team: the account, with
exactly the id the portal knows it by, a member of the management account's organisation (made if there is
none yet), and in it the role `OrganizationAccountAccessRole`, which trusts the management account (its root:
any principal there whose own policy allows sts:AssumeRole) and may do anything (AdministratorAccess). moto's
CreateAccount draws a random id; the new member is renumbered in moto's state right after (as sandbox.demo
does). Idempotent: a second call changes nothing but missing pieces.

Django-free: the server's control endpoint (POST /moto-api/guardrail/accounts) and the bootstrap both call it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from moto.iam.exceptions import EntityAlreadyExists
from moto.iam.models import iam_backends
from moto.organizations.exceptions import AccountNotFoundException
from moto.organizations.models import organizations_backends

ACCESS_ROLE_NAME = "OrganizationAccountAccessRole"
ADMIN_POLICY_NAME = "AdministratorAccess"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
PARTITION = "aws"
ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass
class MemberAccount:
    account_id: str
    name: str
    created: list[str] = field(default_factory=list)  # what this call made, in words
    existing: list[str] = field(default_factory=list)
    organization_created: bool = False  # the organisation itself was made now (a first member)


def access_role_trust(management_account_id: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management_account_id}:root"},
        "Action": "sts:AssumeRole"}]}


def ensure_organization(management_account_id: str, region: str = "us-east-1") -> bool:
    """The management account's organisation (all features); True if it was created now."""
    backend = organizations_backends[management_account_id][PARTITION]
    if backend.org is not None:
        return False
    backend.create_organization(region, FeatureSet="ALL")
    return True


def ensure_member_account(account_id: str, name: str, email: str, *, management_account_id: str,
                          tags: dict[str, str] | None = None, region: str = "us-east-1") -> MemberAccount:
    """Make `account_id` a member of the management account's organisation, with its access role."""
    if not ACCOUNT_ID.match(account_id or ""):
        raise ValueError(f"{account_id!r} is not an AWS account id (12 digits).")
    if account_id == management_account_id:
        raise ValueError(f"{account_id} is the management account, not a member.")
    owner = organizations_backends.master_accounts.get(account_id)
    if owner is not None and owner[0] != management_account_id:
        raise ValueError(f"{account_id} is a member of another organisation (managed by {owner[0]}).")
    result = MemberAccount(account_id, name)
    note = lambda created, what: (result.created if created else result.existing).append(what)  # noqa: E731
    result.organization_created = ensure_organization(management_account_id, region)
    backend = organizations_backends[management_account_id][PARTITION]
    try:
        account = backend.get_account_by_id(account_id)
        joined = False
    except AccountNotFoundException:
        status = backend.create_account(AccountName=name, Email=email)
        drawn = status["CreateAccountStatus"]["AccountId"]
        account = backend.get_account_by_id(drawn)
        account.id = account_id  # its ARN follows
        organizations_backends.master_accounts[account_id] = organizations_backends.master_accounts.pop(drawn)
        iam_backends.pop(drawn, None)  # the access role moto made in the drawn account: made below in the real one
        joined = True
    note(joined, f"{management_account_id} organization member {account_id} {name}")
    if tags:
        missing = {k: v for k, v in tags.items() if account.tags.get(k) != v}
        account.tags.update(missing)
        note(bool(missing), f"{management_account_id} organization tags of {account_id}: "
             + ", ".join(f"{k}={v}" for k, v in tags.items()))
    made, granted = ensure_access_role(account_id, management_account_id)
    note(made, f"{account_id} IAM role {ACCESS_ROLE_NAME}")
    note(granted, f"{account_id} {ACCESS_ROLE_NAME} policy {ADMIN_POLICY_NAME}")
    return result


def ensure_access_role(account_id: str, management_account_id: str) -> tuple[bool, bool]:
    """OrganizationAccountAccessRole in a member account, trusting the management account, administrator;
    (role created, policy granted)."""
    iam = iam_backends[account_id][PARTITION]
    try:
        iam.create_role(ACCESS_ROLE_NAME, json.dumps(access_role_trust(management_account_id)), path="/",
                        permissions_boundary=None, description="", tags=[], max_session_duration="3600")
        made = True
    except EntityAlreadyExists:
        made = False
    role = iam.get_role(ACCESS_ROLE_NAME)
    granted = ADMIN_POLICY_NAME not in role.policies
    if granted:
        role.put_policy(ADMIN_POLICY_NAME, json.dumps(ADMIN_POLICY))
    return made, granted
