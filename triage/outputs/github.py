"""GitHub Issues ticket backend (REST API, version 2022-11-28).

Requests (all with ``Authorization: Bearer <token>``, ``Accept:
application/vnd.github+json``, ``X-GitHub-Api-Version: 2022-11-28``, a
User-Agent, ``Content-Type: application/json`` when there is a body, timeout
(5 s, 15 s)):

* create:  ``POST /repos/{owner}/{repo}/issues`` ``{"title", "body", "labels"}``;
  the labels include ``guardrail-<hash>`` and the body ends with the hidden marker
  ``<!-- guardrail-fingerprint: guardrail-<hash> -->`` -> 201 ``{"number", "html_url", ...}``
* comment: ``POST /repos/{owner}/{repo}/issues/{number}/comments`` ``{"body"}`` -> 201
* close:   (comment first) ``PATCH /repos/{owner}/{repo}/issues/{number}``
  ``{"state": "closed", "state_reason": "completed"}`` -> 200
* reopen:  ``PATCH ...`` ``{"state": "open", "state_reason": "reopened"}`` -> 200 (comment after)
* state:   ``GET /repos/{owner}/{repo}/issues/{number}`` -> its "state"
* find:    ``GET /repos/{owner}/{repo}/issues?labels=guardrail-<hash>&state=all``
  (pull requests skipped); if nothing and ``search_fallback`` (the label is
  silently dropped when the token cannot label issues),
  ``GET /search/issues?q=repo:owner/name is:issue in:body "guardrail-<hash>"``,
  keeping only results whose body really carries the marker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import requests

from .base import (
    DEFAULT_TIMEOUT,
    HttpClient,
    OutputError,
    TicketRef,
    TicketState,
    check_url,
    fingerprint_label,
    one_line,
    truncate,
)

API_VERSION = "2022-11-28"
TITLE_MAX = 256
BODY_MAX = 65_000  # GitHub caps issue and comment bodies at 65,536 characters
_REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def fingerprint_marker(fingerprint: str) -> str:
    """The hidden (HTML comment) line appended to the issue body."""
    return f"<!-- guardrail-fingerprint: {fingerprint_label(fingerprint)} -->"


class GitHubBackend:
    system = "github"

    def __init__(
        self,
        repo: str,
        token: str,
        api_url: str = "https://api.github.com",
        *,
        search_fallback: bool = True,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if not isinstance(repo, str) or not _REPO_RE.fullmatch(repo):
            raise OutputError("github: repo must be 'owner/name'", system=self.system)
        if not token:
            raise OutputError("github: token is required", system=self.system)
        self.repo = repo
        self.api_url = check_url(api_url, system=self.system, what="api_url").rstrip("/")
        self.search_fallback = search_fallback
        self.http = HttpClient(
            system=self.system,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            secrets=[token],
            timeout=timeout,
            session=session,
        )

    def __repr__(self) -> str:  # never show the token
        return f"GitHubBackend(repo={self.repo!r}, api_url={self.api_url!r})"

    # -- helpers ---------------------------------------------------------
    def _issues_path(self, number: str | None = None) -> str:
        path = f"/repos/{self.repo}/issues"
        if number is not None:
            if not str(number).isdigit():
                raise OutputError(f"github: invalid issue number {number!r}", system=self.system)
            path += f"/{number}"
        return path

    def _ref(self, issue: dict[str, Any]) -> TicketRef:
        number = str(issue["number"])
        url = issue.get("html_url") or f"https://github.com/{self.repo}/issues/{number}"
        return TicketRef(system=self.system, key=number, url=str(url))

    def _patch_state(self, ref: TicketRef, payload: dict[str, str]) -> None:
        self.http.request("PATCH", self.api_url + self._issues_path(ref.key), json_body=payload)

    # -- TicketBackend ---------------------------------------------------
    def create(self, *, title: str, body: str, labels: Sequence[str], fingerprint: str) -> TicketRef:
        marker = fingerprint_marker(fingerprint)
        all_labels: list[str] = []
        for label in [*(str(x).strip() for x in labels), fingerprint_label(fingerprint)]:
            if label and label not in all_labels:
                all_labels.append(label)
        payload = {
            "title": one_line(title, TITLE_MAX) or "(no title)",
            "body": truncate(body, BODY_MAX - len(marker) - 2) + "\n\n" + marker,
            "labels": all_labels,
        }
        path = self._issues_path()
        resp = self.http.request("POST", self.api_url + path, json_body=payload, expected=(201,))
        data = self.http.json(resp, f"POST {path}")
        if not isinstance(data, dict) or not isinstance(data.get("number"), int):
            raise self.http.error(f"POST {path}: response has no issue number", status=resp.status_code)
        return self._ref(data)

    def comment(self, ref: TicketRef, body: str) -> None:
        path = self._issues_path(ref.key) + "/comments"
        self.http.request("POST", self.api_url + path, json_body={"body": truncate(body, BODY_MAX)}, expected=(201,))

    def close(self, ref: TicketRef, *, comment: str | None = None) -> None:
        if comment:
            self.comment(ref, comment)
        self._patch_state(ref, {"state": "closed", "state_reason": "completed"})

    def reopen(self, ref: TicketRef, *, comment: str | None = None) -> None:
        self._patch_state(ref, {"state": "open", "state_reason": "reopened"})
        if comment:
            self.comment(ref, comment)

    def state(self, ref: TicketRef) -> TicketState:
        path = self._issues_path(ref.key)
        data = self.http.json(self.http.request("GET", self.api_url + path), f"GET {path}")
        return "closed" if isinstance(data, dict) and data.get("state") == "closed" else "open"

    def find(self, fingerprint: str) -> TicketRef | None:
        label = fingerprint_label(fingerprint)
        marker = fingerprint_marker(fingerprint)
        path = self._issues_path()
        resp = self.http.request(
            "GET",
            self.api_url + path,
            params={"labels": label, "state": "all", "sort": "created", "direction": "desc", "per_page": 20},
        )
        data = self.http.json(resp, f"GET {path}")
        found = [
            i
            for i in (data if isinstance(data, list) else [])
            if isinstance(i, dict)
            and "pull_request" not in i
            and isinstance(i.get("number"), int)
            and any(isinstance(lb, dict) and lb.get("name") == label for lb in i.get("labels") or [])
        ]
        if not found and self.search_fallback:
            query = f'repo:{self.repo} is:issue in:body "{label}"'
            resp = self.http.request(
                "GET",
                self.api_url + "/search/issues",
                params={"q": query, "sort": "created", "order": "desc", "per_page": 20},
            )
            data = self.http.json(resp, "GET /search/issues")
            items = data.get("items") if isinstance(data, dict) else None
            found = [
                i
                for i in (items or [])
                if isinstance(i, dict)
                and "pull_request" not in i
                and isinstance(i.get("number"), int)
                and marker in (i.get("body") or "")
            ]
        if not found:
            return None
        for issue in found:  # should a duplicate exist, prefer an open one
            if issue.get("state") == "open":
                return self._ref(issue)
        return self._ref(found[0])
