"""Who is calling: an access key resolved against moto's own IAM and STS state, in-process.

moto accepts any key and files unknown ones under its default account. The sandbox does not: a key
is known only if it is the portal's configured key, an IAM user's key (any account) or a key that
moto's STS handed out for an assumed role. Everything else is refused by the middleware.

moto backends are indexed `[account_id][partition or region]`; IAM and STS live under "aws". We read
them with `dict.get` so that looking a key up never creates an account's backends as a side effect.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.iam.models import AccessKey, iam_backends
from moto.sts.models import sts_backends

PARTITION = "aws"
PORTAL_USER_NAME = "guardrail-portal"
# The portal user's policy: what the management kit's GuardrailPortalAssume managed policy grants it in AWS.
PORTAL_POLICY_NAME = "GuardrailPortalAssume"
PORTAL_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "AssumeGuardrailRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
     "Resource": "arn:aws:iam::*:role/Guardrail*"}]}
# The platform team's own administrator in the management account: it builds the sandbox's accounts (the
# OrganizationAccountAccessRole of each member, then the kit's roles) as a person with AdministratorAccess would.
OPERATOR_USER_NAME = "sandbox-operator"
OPERATOR_ACCESS_KEY_ID = "AKIASANDBOXOPERATOR0"
OPERATOR_SECRET_ACCESS_KEY = "guardrail-sandbox-operator"
ADMIN_POLICY_NAME = "AdministratorAccess"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Identity:
    """A caller as CloudTrail's userIdentity describes it."""

    type: str  # IAMUser or AssumedRole
    account_id: str
    arn: str
    principal_id: str
    access_key_id: str
    user_name: str | None = None
    session_context: dict[str, Any] | None = field(default=None, compare=False)

    def as_user_identity(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "type": self.type,
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account_id,
            "accessKeyId": self.access_key_id,
        }
        if self.user_name is not None:
            record["userName"] = self.user_name
        if self.session_context is not None:
            record["sessionContext"] = self.session_context
        return record


def _backend(backends: Any, account_id: str) -> Any | None:
    per_account = dict.get(backends, account_id)
    return dict.get(per_account, PARTITION) if per_account is not None else None


def _stable_id(prefix: str, seed: str) -> str:
    """An AWS-looking unique id that stays the same for the same seed (moto invents a new one per call)."""
    digest = base64.b32encode(hashlib.sha1(seed.encode()).digest()).decode()
    return prefix + digest[:17]


def seed_portal_user(management_account_id: str, access_key_id: str, secret_access_key: str) -> None:
    """Give the portal's configured key an owner in moto: IAM user guardrail-portal in the management account.

    Without this moto would still accept the key, but sts:GetCallerIdentity would answer "user/moto" and the
    key would only map to the management account as long as that is moto's default account.
    """
    _seed_user(management_account_id, PORTAL_USER_NAME, access_key_id, secret_access_key,
               PORTAL_POLICY_NAME, PORTAL_POLICY)


def seed_operator(management_account_id: str, access_key_id: str = OPERATOR_ACCESS_KEY_ID,
                  secret_access_key: str = OPERATOR_SECRET_ACCESS_KEY) -> None:
    """IAM user sandbox-operator (administrator) in the management account, with the sandbox's known key."""
    _seed_user(management_account_id, OPERATOR_USER_NAME, access_key_id, secret_access_key,
               ADMIN_POLICY_NAME, ADMIN_POLICY)


def _seed_user(account_id: str, user_name: str, access_key_id: str, secret_access_key: str,
               policy_name: str, policy: dict[str, Any]) -> None:
    iam = iam_backends[account_id][PARTITION]
    user = iam.users.get(user_name)
    if user is None:
        user = iam.create_user(region_name="us-east-1", user_name=user_name)
    if policy_name not in user.policies:
        user.put_policy(policy_name, json.dumps(policy))
    if access_key_id in iam.access_keys:
        return
    key = AccessKey(user_name, prefix="AKIA", account_id=account_id)
    key.access_key_id = access_key_id
    key.secret_access_key = secret_access_key
    user.access_keys.append(key)
    iam.access_keys[access_key_id] = key


class IdentityResolver:
    """Maps access keys to identities; caches hits and re-checks that the key still exists on every use."""

    def __init__(self, *, portal_access_key: str, management_account_id: str) -> None:
        self.portal_access_key = portal_access_key
        self.management_account_id = management_account_id
        self._cache: dict[str, Identity] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def resolve(self, access_key_id: str) -> Identity | None:
        with self._lock:
            cached = self._cache.get(access_key_id)
        if cached is not None and self._still_valid(cached):
            return cached
        identity = self._lookup(access_key_id)
        with self._lock:
            if identity is None:
                self._cache.pop(access_key_id, None)
            else:
                self._cache[access_key_id] = identity
        return identity

    def _still_valid(self, identity: Identity) -> bool:
        if identity.access_key_id == self.portal_access_key:
            return True
        iam = _backend(iam_backends, identity.account_id)
        key = iam.access_keys.get(identity.access_key_id) if iam is not None else None
        return key is not None and key.status == "Active"

    def _lookup(self, access_key_id: str) -> Identity | None:
        if access_key_id == self.portal_access_key:
            return self._portal_identity()
        for account_id in list(dict.keys(iam_backends)):
            iam = _backend(iam_backends, account_id)
            key = iam.access_keys.get(access_key_id) if iam is not None else None
            if key is None:
                continue
            if key.status != "Active":
                return None  # AWS refuses inactive keys like unknown ones
            if key.role_arn:
                return self._assumed_role(account_id, key)
            if key.user_name and key.user_name in iam.users:
                return self._iam_user(iam.users[key.user_name], access_key_id)
            return None
        return None

    def _portal_identity(self) -> Identity:
        iam = _backend(iam_backends, self.management_account_id)
        user = iam.users.get(PORTAL_USER_NAME) if iam is not None else None
        principal = user.id if user is not None else _stable_id("AIDA", PORTAL_USER_NAME)
        return Identity(
            type="IAMUser",
            account_id=self.management_account_id,
            arn=f"arn:aws:iam::{self.management_account_id}:user/{PORTAL_USER_NAME}",
            principal_id=principal,
            access_key_id=self.portal_access_key,
            user_name=PORTAL_USER_NAME,
        )

    @staticmethod
    def _iam_user(user: Any, access_key_id: str) -> Identity:
        return Identity(
            type="IAMUser",
            account_id=user.account_id,
            arn=user.arn,
            principal_id=user.id,
            access_key_id=access_key_id,
            user_name=user.name,
        )

    @staticmethod
    def _assumed_role(account_id: str, key: AccessKey) -> Identity:
        role_arn = key.role_arn or ""
        role_name = role_arn.split("/")[-1]
        session_name = "unknown"
        sts = _backend(sts_backends, account_id)
        for assumed in list(sts.assumed_roles) if sts is not None else []:
            if assumed.access_key_id == key.access_key_id:
                session_name = assumed.session_name
                break
        iam = _backend(iam_backends, account_id)
        role_id = None
        if iam is not None:
            try:
                role_id = iam.get_role_by_arn(role_arn).id
            except Exception:  # the role need not exist: moto lets anyone assume anything
                role_id = None
        role_id = role_id or _stable_id("AROA", role_arn)
        return Identity(
            type="AssumedRole",
            account_id=account_id,
            arn=f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
            principal_id=f"{role_id}:{session_name}",
            access_key_id=key.access_key_id,
            session_context={
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_arn,
                    "accountId": account_id,
                    "userName": role_name,
                },
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": key.create_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "mfaAuthenticated": "false",
                },
            },
        )
