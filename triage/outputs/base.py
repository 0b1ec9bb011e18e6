"""Shared pieces of the alert outputs: the error type, ticket references, the
ticket-backend protocol and a small HTTP helper.

Pure Python (no Django): settings and secrets are passed in by the caller.

Error policy (every backend and the webhook):

* every request carries a timeout of (connect 5 s, read 15 s);
* HTTP 429 and 5xx, timeouts and connection failures raise ``OutputError`` with
  ``retryable=True``; other 4xx raise ``OutputError`` with ``retryable=False``;
* nothing is retried here: a timed-out *create* may still have created the
  ticket, so a caller that retries must call ``find(fingerprint)`` first
  (``lifecycle.sync_ticket`` does exactly that);
* the message is a single line and never contains the token / password /
  secret webhook URL (they are redacted even if the server echoes them), and
  the underlying ``requests`` exception is not chained (its text can contain the
  URL, which for a webhook *is* the secret).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import (
    Any,
    Literal,
    Protocol,
    runtime_checkable,
)
from urllib.parse import quote, urlsplit

import requests

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEFAULT_TIMEOUT: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)

USER_AGENT = "guardrail-triage-outputs/1.0"
FINGERPRINT_LABEL_PREFIX = "guardrail-"
FINGERPRINT_HASH_LENGTH = 16
MAX_ERROR_MESSAGE = 500

TicketState = Literal["open", "closed"]

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def fingerprint_label(fingerprint: str) -> str:
    """``guardrail-<16 hex chars of sha256(fingerprint)>``: a valid Jira label
    (no spaces) and GitHub label, stable for a fingerprint."""
    if not isinstance(fingerprint, str) or not fingerprint:
        raise ValueError("fingerprint must be a non-empty string")
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
    return FINGERPRINT_LABEL_PREFIX + digest[:FINGERPRINT_HASH_LENGTH]


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (and its URL-quoted form) in ``text`` by ``***``."""
    variants: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        variants.add(secret)
        variants.add(quote(secret, safe=""))
    for secret in sorted(variants, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = MAX_ERROR_MESSAGE) -> str:
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = "\n\n[truncated]"
    return text[: limit - len(marker)] + marker


def basic_auth_secrets(user: str, password: str) -> list[str]:
    """The password plus the forms an ``Authorization: Basic`` header takes."""
    pair = f"{user}:{password}".encode()
    return [password, base64.b64encode(pair).decode("ascii")]


def check_url(url: str, *, system: str, what: str = "URL") -> str:
    """Require an absolute http(s) URL; plain http only for loopback hosts
    (credentials are never sent in clear text to a remote host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise OutputError(f"{system}: invalid {what} (must be an absolute https URL)", system=system)
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise OutputError(f"{system}: {what} must use https (got http for host {host})", system=system)
    return url


class OutputError(Exception):
    """A failed send to an output system.

    ``status``: the HTTP status, or None (timeout, connection error, invalid
    configuration, contract problem such as an unknown transition).
    ``system``: "jira", "github" or "webhook".
    ``retryable``: True for 429, 5xx, rate-limit 403s, timeouts and connection
    errors. ``retry_after``: seconds from a Retry-After header, if any.
    The message is one line; anything in ``secrets`` is redacted from it.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        message = one_line(redact(str(message), secrets))
        super().__init__(message)
        self.message = message
        self.system = system
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"OutputError(system={self.system!r}, status={self.status!r}, "
            f"retryable={self.retryable!r}, message={self.message!r})"
        )


@dataclass(frozen=True)
class TicketRef:
    system: str  # "jira" | "github"
    key: str  # Jira issue key ("SEC-12") or GitHub issue number ("42")
    url: str  # human-facing URL of the ticket


@runtime_checkable
class TicketBackend(Protocol):
    system: str

    def create(self, *, title: str, body: str, labels: Sequence[str], fingerprint: str) -> TicketRef: ...

    def comment(self, ref: TicketRef, body: str) -> None: ...

    def close(self, ref: TicketRef, *, comment: str | None = None) -> None: ...

    def reopen(self, ref: TicketRef, *, comment: str | None = None) -> None: ...

    def state(self, ref: TicketRef) -> TicketState: ...

    def find(self, fingerprint: str) -> TicketRef | None: ...


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_detail(resp: requests.Response) -> str:
    """A short description of an error body (Jira errorMessages/errors,
    GitHub message/errors, Slack plain text)."""
    text = resp.text or ""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200]
    parts: list[str] = []
    if isinstance(data, dict):
        for msg in data.get("errorMessages") or []:
            parts.append(str(msg))
        errors = data.get("errors")
        if isinstance(errors, dict):
            parts.extend(f"{k}: {v}" for k, v in errors.items())
        elif isinstance(errors, list):
            for err in errors:
                if isinstance(err, dict):
                    parts.append(str(err.get("message") or " ".join(f"{k}={v}" for k, v in err.items())))
                else:
                    parts.append(str(err))
        if data.get("message"):
            parts.insert(0, str(data["message"]))
    return "; ".join(parts)[:300] if parts else text[:200]


class HttpClient:
    """requests wrapper applying the timeout / error / redaction policy."""

    def __init__(
        self,
        *,
        system: str,
        headers: Mapping[str, str],
        secrets: Iterable[str],
        auth: tuple[str, str] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.system = system
        self.headers = {"User-Agent": USER_AGENT, **headers}
        self.secrets = [s for s in secrets if s]
        self.auth = auth
        self.timeout = timeout
        self.session = session or requests.Session()

    def error(self, message: str, **kwargs: Any) -> OutputError:
        return OutputError(f"{self.system}: {message}", system=self.system, secrets=self.secrets, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        expected: Iterable[int] = (200,),
        display: str | None = None,
    ) -> requests.Response:
        what = display or f"{method} {urlsplit(url).path}"
        headers = dict(self.headers)
        kwargs: dict[str, Any] = {"headers": headers, "timeout": self.timeout, "params": params}
        if self.auth is not None:
            kwargs["auth"] = self.auth
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            kwargs["data"] = json.dumps(json_body).encode("utf-8")
        try:
            resp = self.session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            connect, read = self.timeout
            raise self.error(
                f"{what} timed out ({type(exc).__name__}; connect {connect:g}s, read {read:g}s)",
                retryable=True,
            ) from None
        except requests.ConnectionError as exc:
            raise self.error(f"{what} could not connect ({type(exc).__name__})", retryable=True) from None
        except requests.RequestException as exc:
            raise self.error(f"{what} failed ({type(exc).__name__})") from None
        expected = tuple(expected)
        if resp.status_code in expected:
            return resp
        status = resp.status_code
        retryable = status == 429 or status >= 500
        hint = ""
        if status == 401:
            hint = " (authentication failed: check the configured credentials)"
        elif status == 403:
            if resp.headers.get("X-RateLimit-Remaining") == "0" or "Retry-After" in resp.headers:
                retryable = True
                hint = " (rate limited)"
            else:
                hint = " (permission denied)"
        elif status == 429:
            hint = " (rate limited)"
        elif 200 <= status < 300:
            hint = f" (unexpected success status, expected {'/'.join(map(str, expected))})"
        detail = _error_detail(resp)
        raise self.error(
            f"{what} -> HTTP {status} {resp.reason or ''}{hint}" + (f": {detail}" if detail else ""),
            status=status,
            retryable=retryable,
            retry_after=_retry_after(resp),
        )

    def json(self, resp: requests.Response, what: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self.error(
                f"{what}: unexpected non-JSON response (HTTP {resp.status_code})", status=resp.status_code
            ) from None
