"""Typed reads of environment settings that fail with one line naming the variable."""

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Settings:
    def __init__(self, env: environ.Env) -> None:
        self.env = env

    def _raw(self, name: str) -> str | None:
        """The variable's value, or the content of the file that `<NAME>_FILE` names (Docker and
        Kubernetes secrets), without its final line break. Both at once is a mistake, said so."""
        value, path = self.env.ENVIRON.get(name), self.env.ENVIRON.get(f"{name}_FILE")
        if path is None:
            return value
        if value is not None:
            raise ImproperlyConfigured(f"{name} and {name}_FILE are both set: set one of them")
        try:
            return Path(path).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read ({exc.__class__.__name__})") from None

    def _parse(self, name: str, default: Any, parse: Callable[[str], Any], expected: str) -> Any:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except (ValueError, TypeError, KeyError, ImproperlyConfigured) as exc:
            shown = _shown(name, raw)
            raise ImproperlyConfigured(f"{name}={shown!r} is not {expected} ({str(exc).replace(raw, shown)})") from None

    def str(self, name: str, default: str) -> str:
        return self._parse(name, default, lambda v: v, "a string")

    def bool(self, name: str, default: bool) -> bool:
        def parse(v: str) -> bool:
            if v.strip().lower() in _TRUE:
                return True
            if v.strip().lower() in _FALSE:
                return False
            raise ValueError("use true or false")

        return self._parse(name, default, parse, "a boolean")

    # An empty number is an unset one (docker-compose.yml passes `${NAME:-}` for every setting it does not fix).
    def int(self, name: str, default: int) -> int:
        return self._parse(name, default, lambda v: int(v) if v.strip() else default, "an integer")

    def float(self, name: str, default: float) -> float:
        return self._parse(name, default, lambda v: float(v) if v.strip() else default, "a number")

    def list(self, name: str, default: list[str]) -> list[str]:
        return self._parse(name, default, lambda v: [p.strip() for p in v.split(",") if p.strip()], "a list")

    def db(self, name: str, default: str) -> dict:
        def parse(v: str) -> dict:
            config = environ.Env.db_url_config(v)
            if config.get("ENGINE") not in set(environ.Env.DB_SCHEMES.values()):
                raise ValueError("unknown database scheme; use one of postgres://, sqlite:///, mysql://")
            return config

        return self._parse(name, None, parse, "a database URL") or environ.Env.db_url_config(default)

    def email(self, name: str, default: str) -> dict:
        def parse(v: str) -> dict:
            config = environ.Env.email_url_config(v)
            if not config.get("EMAIL_BACKEND"):
                raise ValueError("unknown email scheme")
            return config

        return self._parse(name, None, parse, "an email URL") or environ.Env.email_url_config(default)


# Values that may hold a secret (a password in a URL, a token in a webhook's path) are never echoed.
_SECRET_NAMES = re.compile(r"SECRET|TOKEN|PASSWORD|KEY|URL|DSN", re.IGNORECASE)


def _shown(name: str, raw: str) -> str:
    """A bad value as the error may print it: itself, or "(hidden)" when it may be a secret."""
    return "(hidden)" if _SECRET_NAMES.search(name) or os.environ.get(f"{name}_FILE") else raw


# The sandbox's own values: settings' defaults while the sandbox is on (GUARDRAIL_SANDBOX), known to anyone who
# reads this file. Against real AWS none may be used.
SANDBOX_VALUES = {
    "AWS_MANAGEMENT_ACCOUNT_ID": "123456789012",
    "AWS_EXTERNAL_ID": "guardrail-sandbox",
    "AWS_ACCESS_KEY_ID": "AKIAGUARDRAILPORTAL0",
    "AWS_SECRET_ACCESS_KEY": "guardrail-sandbox-portal",
}
_ACCOUNT_ID = re.compile(r"\d{12}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):(?:user|role)/[\w+=,.@/-]+")


def production_refusals(*, account_id: str, external_id: str, principal_arn: str, access_key_id: str,
                        secret_access_key: str, demo_logins: bool) -> list[str]:
    """What keeps a portal started against real AWS (the sandbox off) from starting: each setting left unset or
    set to a sandbox value, named, with what to set it to. Empty: nothing."""
    sandbox_account = SANDBOX_VALUES["AWS_MANAGEMENT_ACCOUNT_ID"]
    refusals = []
    if not account_id:
        refusals.append("AWS_MANAGEMENT_ACCOUNT_ID is not set (the 12-digit id of your organisation's management "
                        "account)")
    elif account_id == sandbox_account:
        refusals.append(f"AWS_MANAGEMENT_ACCOUNT_ID={account_id} is the sandbox's account (set your organisation's)")
    elif not _ACCOUNT_ID.fullmatch(account_id):
        refusals.append(f"AWS_MANAGEMENT_ACCOUNT_ID={account_id!r} is not a 12-digit AWS account id")
    if not external_id:
        refusals.append("AWS_EXTERNAL_ID is not set (the ExternalId the kit's roles require: a random string of "
                        "your own, e.g. from `python -c 'import secrets; print(secrets.token_hex(16))'`)")
    elif external_id == SANDBOX_VALUES["AWS_EXTERNAL_ID"]:
        refusals.append("AWS_EXTERNAL_ID is the sandbox's known value (choose a random string of your own)")
    elif not _EXTERNAL_ID.fullmatch(external_id):
        refusals.append("AWS_EXTERNAL_ID is not a valid ExternalId (2 to 1224 of letters, digits and +=,.@:/-_)")
    arn = _PRINCIPAL_ARN.fullmatch(principal_arn or "")
    if not principal_arn:
        refusals.append("AWS_PORTAL_PRINCIPAL_ARN is not set (the ARN of the IAM user or role the portal runs as, "
                        "which the kit's roles trust: arn:aws:iam::<account>:user/<name> or :role/<name>)")
    elif not arn:
        refusals.append(f"AWS_PORTAL_PRINCIPAL_ARN={principal_arn!r} is not an IAM user or role ARN "
                        f"(arn:aws:iam::<account>:user/<name> or :role/<name>)")
    elif arn["account"] == sandbox_account:
        refusals.append(f"AWS_PORTAL_PRINCIPAL_ARN is in the sandbox's account {sandbox_account}")
    if access_key_id == SANDBOX_VALUES["AWS_ACCESS_KEY_ID"]:
        refusals.append("AWS_ACCESS_KEY_ID is the sandbox's known key (unset it to use the instance's role, or set "
                        "the portal's own key)")
    if secret_access_key == SANDBOX_VALUES["AWS_SECRET_ACCESS_KEY"]:
        refusals.append("AWS_SECRET_ACCESS_KEY is the sandbox's known secret")
    if bool(access_key_id) != bool(secret_access_key):
        given, missing = (("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if access_key_id
                          else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"))
        refusals.append(f"{given} is set without {missing} (set both, or neither for the instance's role)")
    if demo_logins:
        refusals.append("GUARDRAIL_DEMO_LOGINS is on (it shows the demo password on the login page; sandbox only)")
    return refusals


def production_refuse(**values: Any) -> None:
    """ImproperlyConfigured naming every refusal of `production_refusals`, on one line."""
    refusals = production_refusals(**values)
    if refusals:
        raise ImproperlyConfigured("started against real AWS (GUARDRAIL_SANDBOX=false), the portal needs settings "
                                   "of its own: " + "; ".join(refusals))
