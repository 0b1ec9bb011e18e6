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

    def int(self, name: str, default: int) -> int:
        return self._parse(name, default, int, "an integer")

    def float(self, name: str, default: float) -> float:
        return self._parse(name, default, float, "a number")

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
