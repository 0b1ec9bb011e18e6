"""The IAM rules: MFA for console users, and for the root user.

Both read IAM's credential report when the account's context has one (`context["credential_report"]`: the
report's CSV rows as dicts, with "true"/"false"/"not_supported" as IAM writes them); the console-user rule
falls back to the user's recorded configuration (loginProfile, mfaDevices) when the report has no row for it.
"""

from __future__ import annotations

from typing import Any

from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    AccountView,
    Evaluation,
    ResourceView,
)
from remediation.rules.managed_common import ManagedRule

__all__ = ["ROOT_ROW", "MfaEnabledForIamConsoleAccess", "RootAccountMfaEnabled", "report_row"]

USER = "AWS::IAM::User"
ROOT_ROW = "<root_account>"


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def report_row(context: dict[str, Any], user: str = "", arn: str = "") -> dict[str, Any] | None:
    """The credential report's row for a user (by name or ARN); None without a report or a row."""
    for row in context.get("credential_report") or []:
        if not isinstance(row, dict):
            continue
        if (user and row.get("user") == user) or (arn and row.get("arn") == arn):
            return row
    return None


class MfaEnabledForIamConsoleAccess(ManagedRule):
    name = "mfa-enabled-for-iam-console-access"
    identifier = "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS"
    description = "IAM users with a console password have MFA enabled (users without one are compliant)."
    resource_types = (USER,)

    def check(self, resource: ResourceView, params: dict[str, str]) -> Evaluation:
        config = resource.configuration
        user = config.get("userName") or resource.resource_id
        row = report_row(resource.context, user, config.get("arn") or "")
        if row is not None:
            return self._from_report(user, row)
        if "loginProfile" not in config or "mfaDevices" not in config:
            return Evaluation(INSUFFICIENT_DATA, f"No credential report row for {user} and no login profile or "
                                                 f"MFA devices recorded")
        devices = config.get("mfaDevices") or []
        if not config.get("loginProfile"):
            return Evaluation(COMPLIANT, f"{user} has no console password")
        if devices:
            serial = (devices[0] or {}).get("serialNumber") if isinstance(devices[0], dict) else devices[0]
            return Evaluation(COMPLIANT, f"{user} has a console password and MFA device {serial}")
        return Evaluation(NON_COMPLIANT, f"{user} has a console password and no MFA device")

    @staticmethod
    def _from_report(user: str, row: dict[str, Any]) -> Evaluation:
        password = str(row.get("password_enabled", "")).strip().lower()
        if password not in ("true", "false", "not_supported"):
            return Evaluation(INSUFFICIENT_DATA, f"The credential report's password_enabled for {user} is "
                                                 f"{password or 'empty'}")
        if password != "true":
            return Evaluation(COMPLIANT, f"{user} has no console password (credential report)")
        if _true(row.get("mfa_active")):
            return Evaluation(COMPLIANT, f"{user} has a console password and MFA active (credential report)")
        return Evaluation(NON_COMPLIANT, f"{user} has a console password and no MFA (credential report)")


class RootAccountMfaEnabled(ManagedRule):
    name = "root-account-mfa-enabled"
    identifier = "ROOT_ACCOUNT_MFA_ENABLED"
    description = "The root user has MFA enabled (from the credential report's <root_account> row)."
    periodic = True

    def check_account(self, account: AccountView, params: dict[str, str]) -> Evaluation:
        if not account.context.get("credential_report"):
            return Evaluation(INSUFFICIENT_DATA, "No IAM credential report for the account")
        row = report_row(account.context, ROOT_ROW)
        if row is None:
            return Evaluation(INSUFFICIENT_DATA, f"The credential report has no {ROOT_ROW} row")
        if _true(row.get("mfa_active")):
            return Evaluation(COMPLIANT, "The root user has MFA active")
        return Evaluation(NON_COMPLIANT, f"The root user has no MFA (mfa_active {row.get('mfa_active')})")
