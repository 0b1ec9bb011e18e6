"""GitHub REST (2022-11-28) and Slack-style webhook contract fakes (see fake_http)."""

from __future__ import annotations

import re
from typing import Any

from .fake_http import Fake, Recorded, Reject, Reply

# GitHub


class FakeGitHub(Fake):
    TOKEN = "ghp_secretTOKEN0123456789abcdef"
    REPO = "acme/guardrail-alerts"

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        self.history: dict[int, list[str]] = {}
        self.drop_labels = False  # as GitHub does for tokens without push access

    def _err(self, status: int, message: str, **extra: Any) -> Reply:
        return Reply(
            status,
            {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status), **extra},
        )

    def route(self, req: Recorded) -> Reply:
        if req.headers.get("authorization") != f"Bearer {self.TOKEN}":
            raise Reject(self._err(401, "Bad credentials"))
        if req.headers.get("accept") != "application/vnd.github+json":
            raise self.violation("Accept must be application/vnd.github+json", self._err(415, "Unsupported Media Type"))
        if req.headers.get("x-github-api-version") != "2022-11-28":
            raise self.violation("X-GitHub-Api-Version must be 2022-11-28", self._err(400, "Invalid API version"))
        if not req.headers.get("user-agent"):
            raise self.violation("User-Agent is required", self._err(403, "Request forbidden by administrative rules."))
        p, m = req.path, req.method
        if p == "/search/issues" and m == "GET":
            return self.search(req)
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues(?:/(\d+))?(/comments)?", p)
        if not match:
            raise self.violation("no such endpoint", self._err(404, "Not Found"))
        if match.group(1) != self.REPO:
            return self._err(404, "Not Found")
        number = int(match.group(2)) if match.group(2) else None
        if number is None:
            if match.group(3) or m not in ("GET", "POST"):
                raise self.violation(f"{m} not expected on {p}", self._err(404, "Not Found"))
            return self.create(req) if m == "POST" else self.list(req)
        if number not in self.issues:
            return self._err(404, "Not Found")
        if match.group(3):
            if m != "POST":
                raise self.violation(f"{m} not expected on {p}", self._err(404, "Not Found"))
            return self.add_comment(req, number)
        if m == "GET":
            return Reply(200, self.issue_json(number))
        if m == "PATCH":
            return self.update(req, number)
        raise self.violation(f"{m} not expected on {p}", self._err(404, "Not Found"))

    def issue_json(self, number: int) -> dict[str, Any]:
        i = self.issues[number]
        api = f"{self.base_url}/repos/{self.REPO}"
        return {
            "id": 2000000 + number,
            "node_id": f"I_kwDOA{number:05d}",
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "html_url": f"https://github.com/{self.REPO}/issues/{number}",
            "number": number,
            "state": i["state"],
            "state_reason": i["state_reason"],
            "title": i["title"],
            "body": i["body"],
            "user": {"login": "guardrail-bot", "id": 1, "type": "Bot"},
            "labels": [
                {
                    "id": 300 + n,
                    "node_id": f"LA_{n}",
                    "url": f"{api}/labels/{name}",
                    "name": name,
                    "color": "ededed",
                    "default": False,
                    "description": None,
                }
                for n, name in enumerate(i["labels"])
            ],
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(self.comments.get(number, [])),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "closed_at": "2026-01-02T00:00:00Z" if i["state"] == "closed" else None,
            "author_association": "NONE",
            **({"pull_request": {"url": f"{api}/pulls/{number}"}} if i.get("pr") else {}),
        }

    def create(self, req: Recorded) -> Reply:
        bad = self._err(400, "Problems parsing JSON")
        data = self.json_body(req, bad, {"title", "body", "assignee", "milestone", "labels", "assignees", "type"})
        invalid = self._err(
            422, "Validation Failed", errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}]
        )
        if not isinstance(data.get("title"), str) or not data["title"].strip():
            raise self.violation("title is required", invalid)
        if not isinstance(data.get("body", ""), str):
            raise self.violation("body must be a string", invalid)
        labels = data.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) and 0 < len(x) <= 50 for x in labels):
            raise self.violation(f"labels must be names of 1-50 chars: {labels!r}", self._err(422, "Validation Failed"))
        return Reply(
            201,
            self.issue_json(self.add(data["title"], data.get("body", ""), [] if self.drop_labels else labels)),
            {"Location": f"{self.base_url}/repos/{self.REPO}/issues/{len(self.issues)}"},
        )

    def add(self, title: str, body: str, labels: list[str], pr: bool = False) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "title": title,
            "body": body,
            "labels": list(labels),
            "state": "open",
            "state_reason": None,
            "pr": pr,
        }
        self.history[number] = []
        return number

    def add_comment(self, req: Recorded, number: int) -> Reply:
        data = self.json_body(req, self._err(400, "Problems parsing JSON"), {"body"})
        if not isinstance(data.get("body"), str) or not data["body"].strip():
            raise self.violation("comment body is required", self._err(422, "Validation Failed"))
        self.comments.setdefault(number, []).append(data["body"])
        self.history[number].append("comment")
        cid = 9000 + sum(len(c) for c in self.comments.values())
        return Reply(
            201,
            {
                "id": cid,
                "node_id": f"IC_{cid}",
                "body": data["body"],
                "url": f"{self.base_url}/repos/{self.REPO}/issues/comments/{cid}",
                "html_url": f"https://github.com/{self.REPO}/issues/{number}#issuecomment-{cid}",
                "issue_url": f"{self.base_url}/repos/{self.REPO}/issues/{number}",
                "user": {"login": "guardrail-bot"},
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "author_association": "NONE",
            },
        )

    def update(self, req: Recorded, number: int) -> Reply:
        data = self.json_body(
            req,
            self._err(400, "Problems parsing JSON"),
            {"title", "body", "assignee", "state", "state_reason", "milestone", "labels", "assignees", "type"},
        )
        state, reason = data.get("state"), data.get("state_reason")
        if state not in (None, "open", "closed"):
            raise self.violation(f"bad state {state!r}", self._err(422, "Validation Failed"))
        if reason not in (None, "completed", "not_planned", "duplicate", "reopened"):
            raise self.violation(f"bad state_reason {reason!r}", self._err(422, "Validation Failed"))
        if (state == "open" and reason not in (None, "reopened")) or (state == "closed" and reason == "reopened"):
            raise self.violation(
                f"state_reason {reason!r} does not fit state {state!r}", self._err(422, "Validation Failed")
            )
        issue = self.issues[number]
        if state and state != issue["state"]:
            issue["state"], issue["state_reason"] = state, reason
            self.history[number].append(f"state:{state}")
        return Reply(200, self.issue_json(number))

    def list(self, req: Recorded) -> Reply:
        state = req.query.get("state", ["open"])[0]
        wanted = [x for x in req.query.get("labels", [""])[0].split(",") if x]
        rows = [
            n
            for n, i in sorted(self.issues.items(), reverse=True)
            if (state == "all" or i["state"] == state) and all(w in i["labels"] for w in wanted)
        ]
        return Reply(200, [self.issue_json(n) for n in rows])

    def search(self, req: Recorded) -> Reply:
        q = req.query.get("q", [""])[0]
        match = re.fullmatch(r'repo:(\S+) is:issue in:body "([^"]+)"', q)
        if not match:
            raise self.violation(f"unexpected search query {q!r}", self._err(422, "Validation Failed"))
        if match.group(1) != self.REPO:
            return self._err(422, "Validation Failed")
        term = match.group(2).lower()
        rows = [
            n for n, i in sorted(self.issues.items(), reverse=True) if not i.get("pr") and term in i["body"].lower()
        ]
        return Reply(
            200,
            {
                "total_count": len(rows),
                "incomplete_results": False,
                "items": [{**self.issue_json(n), "score": 1.0} for n in rows],
            },
        )


# Slack-style incoming webhook


class FakeWebhook(Fake):
    PATH = "/services/T0000/B0000/XXXXsecretXXXX"

    def route(self, req: Recorded) -> Reply:
        if req.path != self.PATH:
            return Reply(404, "no_service")
        if req.method != "POST":
            raise self.violation("webhooks take POST", Reply(405, "invalid_method"))
        data = self.json_body(
            req,
            Reply(400, "invalid_payload"),
            {
                "text",
                "blocks",
                "attachments",
                "thread_ts",
                "mrkdwn",
                "unfurl_links",
                "unfurl_media",
                "username",
                "icon_emoji",
                "icon_url",
                "channel",
            },
        )
        if not isinstance(data.get("text"), str) or not data["text"]:
            raise self.violation("text is required", Reply(400, "no_text"))
        blocks = data.get("blocks", [])
        if not isinstance(blocks, list) or not all(
            isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
        ):
            raise self.violation("blocks must be a list of objects with 'type'", Reply(400, "invalid_blocks"))
        return Reply(200, "ok")
