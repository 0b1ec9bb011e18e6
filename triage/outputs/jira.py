"""Jira Cloud ticket backend (REST API v3).

Requests (all with HTTP Basic ``email:api_token``, ``Accept: application/json``,
``Content-Type: application/json`` when there is a body, timeout (5 s, 15 s)):

* create:  ``POST /rest/api/3/issue`` ``{"fields": {"project": {"key"}, "summary",
  "issuetype": {"name"}, "labels": [..., "guardrail-<hash>"], "description": ADF}}``
  -> 201 ``{"id", "key", "self"}``
* comment: ``POST /rest/api/3/issue/{key}/comment`` ``{"body": ADF}`` -> 201
* close / reopen: ``GET /rest/api/3/issue/{key}/transitions`` -> 200
  ``{"transitions": [{"id", "name", "to": {...}}]}``, then
  ``POST /rest/api/3/issue/{key}/transitions`` ``{"transition": {"id"}}`` -> 204
  (close posts its comment first, reopen posts it after the transition)
* state:   ``GET /rest/api/3/issue/{key}?fields=status`` -> "closed" when the
  status category key is "done", else "open"
* find:    ``POST /rest/api/3/search/jql`` ``{"jql": 'project = "KEY" AND labels =
  "guardrail-<hash>" ORDER BY created DESC', "fields": [...], "maxResults": 10}``
  (the enhanced search; the old ``/rest/api/3/search`` is removed, CHANGE-2046)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import requests

from .base import (
    DEFAULT_TIMEOUT,
    HttpClient,
    OutputError,
    TicketRef,
    TicketState,
    basic_auth_secrets,
    check_url,
    fingerprint_label,
    one_line,
    truncate,
)

SUMMARY_MAX = 255
TEXT_MAX = 32_000  # Jira rich-text fields hold at most 32,767 characters


def adf_document(text: str) -> dict[str, Any]:
    """Plain text -> Atlassian Document Format: one paragraph per blank-line
    separated block, single newlines as ``hardBreak`` nodes. Text nodes are never
    empty (ADF rejects empty text)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    paragraphs: list[dict[str, Any]] = []
    for block in re.split(r"\n[ \t]*\n", text):
        if not block.strip():
            continue
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(block.strip("\n").split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            line = line.rstrip()
            if line:
                inline.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": inline})
    if not paragraphs:
        paragraphs.append({"type": "paragraph", "content": []})
    return {"type": "doc", "version": 1, "content": paragraphs}


def jira_label(label: str) -> str:
    """Jira labels cannot contain whitespace: collapse it to '-'."""
    return "-".join(str(label).split())[:255]


def _jql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class JiraBackend:
    system = "jira"

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        project_key: str,
        issue_type: str = "Task",
        done_transition: str = "Done",
        reopen_transition: str = "To Do",
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = check_url(base_url, system=self.system, what="base_url").rstrip("/")
        if not email or not api_token:
            raise OutputError("jira: email and api_token are required", system=self.system)
        if not project_key:
            raise OutputError("jira: project_key is required", system=self.system)
        self.project_key = project_key
        self.issue_type = issue_type
        self.done_transition = done_transition
        self.reopen_transition = reopen_transition
        self.http = HttpClient(
            system=self.system,
            headers={"Accept": "application/json"},
            secrets=basic_auth_secrets(email, api_token),
            auth=(email, api_token),
            timeout=timeout,
            session=session,
        )

    def __repr__(self) -> str:  # never show the token
        return f"JiraBackend(base_url={self.base_url!r}, project_key={self.project_key!r})"

    # -- helpers ---------------------------------------------------------
    def _url(self, path: str) -> str:
        return self.base_url + path

    def _issue_path(self, key: str) -> str:
        return "/rest/api/3/issue/" + quote(key, safe="")

    def _ref(self, key: str) -> TicketRef:
        return TicketRef(system=self.system, key=key, url=f"{self.base_url}/browse/{key}")

    # -- TicketBackend ---------------------------------------------------
    def create(self, *, title: str, body: str, labels: Sequence[str], fingerprint: str) -> TicketRef:
        all_labels: list[str] = []
        for label in [*(jira_label(x) for x in labels), fingerprint_label(fingerprint)]:
            if label and label not in all_labels:
                all_labels.append(label)
        summary = one_line(title, SUMMARY_MAX) or "(no title)"
        fields = {
            "project": {"key": self.project_key},
            "summary": summary,
            "issuetype": {"name": self.issue_type},
            "labels": all_labels,
            "description": adf_document(truncate(body, TEXT_MAX)),
        }
        resp = self.http.request("POST", self._url("/rest/api/3/issue"), json_body={"fields": fields}, expected=(201,))
        data = self.http.json(resp, "POST /rest/api/3/issue")
        key = data.get("key") if isinstance(data, dict) else None
        if not key:
            raise self.http.error("POST /rest/api/3/issue: response has no issue key", status=resp.status_code)
        return self._ref(str(key))

    def comment(self, ref: TicketRef, body: str) -> None:
        self.http.request(
            "POST",
            self._url(self._issue_path(ref.key) + "/comment"),
            json_body={"body": adf_document(truncate(body, TEXT_MAX))},
            expected=(201,),
        )

    def close(self, ref: TicketRef, *, comment: str | None = None) -> None:
        if comment:
            self.comment(ref, comment)
        self._transition(ref, self.done_transition)

    def reopen(self, ref: TicketRef, *, comment: str | None = None) -> None:
        self._transition(ref, self.reopen_transition)
        if comment:
            self.comment(ref, comment)

    def state(self, ref: TicketRef) -> TicketState:
        path = self._issue_path(ref.key)
        resp = self.http.request("GET", self._url(path), params={"fields": "status"})
        data = self.http.json(resp, f"GET {path}")
        return self._state_of(data)

    def find(self, fingerprint: str) -> TicketRef | None:
        label = fingerprint_label(fingerprint)
        jql = f"project = {_jql_string(self.project_key)} AND labels = {_jql_string(label)} ORDER BY created DESC"
        body = {"jql": jql, "fields": ["status", "summary", "labels"], "maxResults": 10}
        resp = self.http.request("POST", self._url("/rest/api/3/search/jql"), json_body=body)
        data = self.http.json(resp, "POST /rest/api/3/search/jql")
        issues = [i for i in (data.get("issues") or []) if isinstance(i, dict) and i.get("key")]
        if not issues:
            return None
        # One ticket per fingerprint; should a duplicate exist, prefer an open one.
        for issue in issues:
            if self._state_of(issue) == "open":
                return self._ref(str(issue["key"]))
        return self._ref(str(issues[0]["key"]))

    # -- internals -------------------------------------------------------
    @staticmethod
    def _state_of(issue: Any) -> TicketState:
        try:
            category = issue["fields"]["status"]["statusCategory"]["key"]
        except (KeyError, TypeError):
            category = None
        return "closed" if category == "done" else "open"

    def _transition(self, ref: TicketRef, name: str) -> None:
        path = self._issue_path(ref.key) + "/transitions"
        resp = self.http.request("GET", self._url(path))
        data = self.http.json(resp, f"GET {path}")
        transitions = [t for t in (data.get("transitions") or []) if isinstance(t, dict)]
        wanted = name.casefold()
        chosen = [t for t in transitions if str(t.get("name", "")).casefold() == wanted]
        if not chosen:  # fall back to the target status name ("Reopen" -> "To Do")
            chosen = [t for t in transitions if str((t.get("to") or {}).get("name", "")).casefold() == wanted]
        if len(chosen) != 1:
            available = ", ".join(repr(str(t.get("name"))) for t in transitions) or "none"
            reason = "is ambiguous" if chosen else "is not available"
            raise self.http.error(f"transition {name!r} {reason} for {ref.key}; available transitions: {available}")
        self.http.request(
            "POST", self._url(path), json_body={"transition": {"id": str(chosen[0]["id"])}}, expected=(204, 200)
        )
