"""Slack-style incoming webhook.

``POST <url>`` with ``Content-Type: application/json`` and the body
``{"text": text}`` plus ``"blocks": [...]`` when blocks are given; any non-2xx
answer is an ``OutputError`` (429/5xx, timeouts and connection errors are
retryable). The webhook URL is itself the secret, so error messages show only
its scheme and host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from .base import DEFAULT_TIMEOUT, HttpClient, OutputError, check_url

SYSTEM = "webhook"


def webhook_post(
    url: str,
    *,
    text: str,
    blocks: Sequence[Mapping[str, Any]] | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
) -> None:
    try:
        check_url(url, system=SYSTEM, what="webhook URL")
    except OutputError:
        raise OutputError("webhook: invalid webhook URL (must be an absolute https URL)", system=SYSTEM) from None
    if not isinstance(text, str) or not text.strip():
        raise OutputError("webhook: text must be a non-empty string", system=SYSTEM)
    payload: dict[str, Any] = {"text": text}
    if blocks is not None:
        blocks = list(blocks)
        if not all(isinstance(b, Mapping) and isinstance(b.get("type"), str) for b in blocks):
            raise OutputError("webhook: every block must be a mapping with a 'type'", system=SYSTEM)
        payload["blocks"] = [dict(b) for b in blocks]
    parts = urlsplit(url)
    http = HttpClient(
        system=SYSTEM,
        headers={"Accept": "application/json, text/plain;q=0.9"},
        secrets=[url, parts.path, parts.query],
        timeout=timeout,
        session=session,
    )
    http.request(
        "POST",
        url,
        json_body=payload,
        expected=range(200, 300),
        display=f"POST {parts.scheme}://{parts.hostname}/\u2026",
    )
