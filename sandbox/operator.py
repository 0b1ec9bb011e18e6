"""Acting as the sandbox's operator (the platform team's administrator): IAM user sandbox-operator in the
management account (its key is fixed, sandbox.identity), and in a member account the session of its
OrganizationAccountAccessRole, as a person with AdministratorAccess reaches the accounts AWS Organizations made.
Used for what a platform team does by hand or through StackSets (the bootstrap, people's IAM users and keys),
never for what the portal itself does (that goes through the portal's own principal and the kit's roles).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from portal import aws
from sandbox.identity import OPERATOR_ACCESS_KEY_ID, OPERATOR_SECRET_ACCESS_KEY
from sandbox.organization import ACCESS_ROLE_NAME

SESSION_NAME = "guardrail-bootstrap"


def operator_keys() -> dict[str, str]:
    return {"access_key_id": OPERATOR_ACCESS_KEY_ID, "secret_access_key": OPERATOR_SECRET_ACCESS_KEY}


def operator_credentials(account_id: str, session_name: str = SESSION_NAME) -> dict[str, str]:
    """Keyword arguments for portal.aws.client acting as the operator in `account_id`."""
    if account_id == settings.AWS_MANAGEMENT_ACCOUNT_ID:
        return operator_keys()
    sts = aws.client("sts", **operator_keys())
    raw = sts.assume_role(RoleArn=aws.role_arn(account_id, ACCESS_ROLE_NAME),
                          RoleSessionName=session_name)["Credentials"]
    return {"access_key_id": raw["AccessKeyId"], "secret_access_key": raw["SecretAccessKey"],
            "session_token": raw["SessionToken"]}


def operator_client(service: str, account_id: str, *, region: str | None = None, max_attempts: int | None = None,
                    session_name: str = SESSION_NAME) -> Any:
    return aws.client(service, region=region, max_attempts=max_attempts,
                      **operator_credentials(account_id, session_name))
