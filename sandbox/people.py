"""People in the sandbox: their IAM users (named by Django username) and their own access keys.

A developer's home account is the first account (by name) of their first team (by name) that has one;
admins and auditors live in the management account. Keys are minted on demand and never stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.conf import settings

from portal import aws
from portal.models import Account
from portal.roles import is_admin, is_auditor, is_developer
from sandbox.operator import operator_client

USERNAME_TAG = "guardrail:username"

# Inline policies per role: what each person may do, as a real landing zone would (the sandbox enforces them
# when it enforces IAM; moto does not load AWS managed policies unless asked to, which is slow).
ROLE_POLICIES: dict[str, dict[str, Any]] = {
    "Admin": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    "Developer": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "iam:PassRole"], "Resource": "*"}]},
    "Auditor": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["*:Describe*", "*:Get*", "*:List*", "*:Lookup*"], "Resource": "*"}]},
}
POLICY_NAME = "guardrail-role"


@dataclass(frozen=True)
class Person:
    username: str
    role: str  # "Admin", "Developer" or "Auditor"
    account_ids: tuple[str, ...]  # every account where the person gets an IAM user


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str
    account_id: str

    def env_lines(self) -> list[str]:
        return [
            f"AWS_ACCESS_KEY_ID={self.access_key_id}",
            f"AWS_SECRET_ACCESS_KEY={self.secret_access_key}",
            f"AWS_ENDPOINT_URL={settings.AWS_ENDPOINT_URL}",
            f"AWS_DEFAULT_REGION={settings.AWS_DEFAULT_REGION}",
        ]


def role_of(user: Any) -> str | None:
    for role, check in (("Admin", is_admin), ("Auditor", is_auditor), ("Developer", is_developer)):
        if check(user):
            return role
    return None


def role_name_for(account_id: str) -> str:
    account = Account.objects.filter(account_id=account_id).first()
    return account.portal_role_name if account is not None else settings.AWS_PORTAL_ROLE_NAME


def person_of(user: Any) -> Person | None:
    """The person's sandbox footprint, or None for someone with no role."""
    role = role_of(user)
    if role is None:
        return None
    if role in ("Admin", "Auditor"):
        return Person(user.username, role, (settings.AWS_MANAGEMENT_ACCOUNT_ID,))
    accounts = Account.objects.filter(team__members=user).order_by("team__name", "name")
    return Person(user.username, role, tuple(dict.fromkeys(a.account_id for a in accounts)))


def home_account_id(user: Any) -> str | None:
    person = person_of(user)
    return person.account_ids[0] if person is not None and person.account_ids else None


def _exists(call: Any, missing_code: str, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
        return True
    except aws.ClientError as exc:
        if aws.error_code(exc) == missing_code:
            return False
        raise


def _document(value: Any) -> Any:
    """A policy document as returned by IAM: a dict, or URL-encoded JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(unquote(value))
        except ValueError:
            return None
    return value


def ensure_iam_user(iam: Any, username: str, role: str) -> bool:
    """Create the person's IAM user (tagged with their username) if missing; True if it was created."""
    created = not _exists(iam.get_user, "NoSuchEntity", UserName=username)
    if created:
        iam.create_user(UserName=username, Tags=[{"Key": USERNAME_TAG, "Value": username}])
    policy = ROLE_POLICIES.get(role)
    if policy is not None:
        try:
            current = iam.get_user_policy(UserName=username, PolicyName=POLICY_NAME)["PolicyDocument"]
        except aws.ClientError:
            current = None
        if _document(current) != policy:
            iam.put_user_policy(UserName=username, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))
    return created


def mint_access_key(user: Any) -> AccessKey:
    """A fresh key for the person's IAM user in their home account (the oldest goes if they already have two)."""
    person = person_of(user)
    if person is None or not person.account_ids:
        raise LookupError(f"{user.username} has no sandbox account (no role, or no team with an account).")
    account_id = person.account_ids[0]
    # The platform team hands out people's keys (not the portal, whose roles may not touch IAM users).
    iam = operator_client("iam", account_id, max_attempts=1)
    ensure_iam_user(iam, person.username, person.role)
    keys = iam.list_access_keys(UserName=person.username)["AccessKeyMetadata"]
    if len(keys) >= 2:
        oldest = min(keys, key=lambda k: k["CreateDate"])
        iam.delete_access_key(UserName=person.username, AccessKeyId=oldest["AccessKeyId"])
    key = iam.create_access_key(UserName=person.username)["AccessKey"]
    return AccessKey(key["AccessKeyId"], key["SecretAccessKey"], account_id)
