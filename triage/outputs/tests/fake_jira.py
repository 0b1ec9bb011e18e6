"""Jira Cloud REST v3 contract fake (see fake_http for the conventions)."""

from __future__ import annotations

import base64
import re
from typing import Any, ClassVar

from .fake_http import JSON, Fake, Recorded, Reject, Reply

# Atlassian Document Format


def adf_problems(doc: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return ["root must be {'type': 'doc', 'version': 1, ...}"]
    if set(doc) - {"type", "version", "content"}:
        problems.append(f"unknown doc keys {sorted(set(doc) - {'type', 'version', 'content'})}")
    content = doc.get("content")
    if not isinstance(content, list):
        return problems + ["doc.content must be a list"]
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "paragraph":
            problems.append(f"unsupported block node {block!r}")
            continue
        if set(block) - {"type", "content", "attrs"}:
            problems.append(f"unknown paragraph keys {sorted(set(block))}")
        for node in block.get("content", []):
            kind = node.get("type") if isinstance(node, dict) else None
            if kind == "text":
                if set(node) - {"type", "text", "marks"}:
                    problems.append(f"unknown text keys {sorted(set(node))}")
                if not isinstance(node.get("text"), str) or not node["text"]:
                    problems.append("text nodes need non-empty 'text'")
            elif kind == "hardBreak":
                if set(node) - {"type", "attrs"}:
                    problems.append("hardBreak takes no content")
            else:
                problems.append(f"unsupported inline node {node!r}")
    return problems


def adf_text(doc: dict[str, Any]) -> str:
    """Plain text of an ADF doc built from paragraphs/text/hardBreak."""
    out = []
    for block in doc["content"]:
        out.append("".join(n["text"] if n["type"] == "text" else "\n" for n in block.get("content", [])))
    return "\n\n".join(out)


# --------------------------------------------------------------------------
# Jira Cloud

STATUS = {
    "To Do": {"id": "10000", "category": {"id": 2, "key": "new", "name": "To Do", "colorName": "blue-gray"}},
    "In Progress": {
        "id": "3",
        "category": {"id": 4, "key": "indeterminate", "name": "In Progress", "colorName": "yellow"},
    },
    "Done": {"id": "10001", "category": {"id": 3, "key": "done", "name": "Done", "colorName": "green"}},
}


class FakeJira(Fake):
    EMAIL = "bot@example.com"
    TOKEN = "jira-secret-TOKEN-123456"
    PROJECT = "SEC"
    ISSUE_TYPES: ClassVar[dict[str, str]] = {"Task": "10002", "Bug": "10004"}

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict[str, Any]] = {}
        # (id, transition name, target status); a transition is offered when its target differs
        self.transitions = [("11", "To Do", "To Do"), ("21", "Start progress", "In Progress"), ("31", "Done", "Done")]
        self.echo_auth_on_401 = False
        self._next_id = 10001

    def _err(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> Reply:
        return Reply(status, {"errorMessages": messages or [], "errors": errors or {}})

    def route(self, req: Recorded) -> Reply:
        expected = "Basic " + base64.b64encode(f"{self.EMAIL}:{self.TOKEN}".encode()).decode()
        auth = req.headers.get("authorization", "")
        if auth != expected:
            text = "Client must be authenticated to access this resource."
            if self.echo_auth_on_401:  # a hostile/buggy server echoing the credentials back
                sent = base64.b64decode(auth.removeprefix("Basic ")).decode(errors="replace")
                text += f" Received: {auth} ({sent})"
            raise Reject(Reply(401, text, {"WWW-Authenticate": 'Basic realm="protected-area"'}))
        if JSON not in req.headers.get("accept", ""):
            raise self.violation("Accept must include application/json", self._err(406, ["Not Acceptable"]))
        p, m = req.path, req.method
        if p in ("/rest/api/3/search", "/rest/api/2/search"):
            raise self.violation(
                "the removed search endpoint was used",
                self._err(
                    410, ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]
                ),
            )
        if p == "/rest/api/3/issue" and m == "POST":
            return self.create(req)
        if p == "/rest/api/3/search/jql" and m == "POST":
            return self.search(req)
        match = re.fullmatch(r"/rest/api/3/issue/([^/]+)(/comment|/transitions)?", p)
        if not match:
            raise self.violation("no such endpoint", self._err(404, ["Not found"]))
        issue = self.issues.get(match.group(1))
        sub = match.group(2)
        allowed = {None: {"GET"}, "/comment": {"POST"}, "/transitions": {"GET", "POST"}}[sub]
        if m not in allowed:
            raise self.violation(f"method {m} not expected on {p}", self._err(405, ["Method Not Allowed"]))
        if issue is None:
            return self._err(404, ["Issue does not exist or you do not have permission to see it."])
        if sub is None:
            return Reply(200, self.issue_json(issue, req.query.get("fields", [""])[0].split(",")))
        if sub == "/comment":
            return self.add_comment(req, issue)
        if m == "GET":
            return Reply(
                200, {"expand": "transitions", "transitions": [self.transition_json(t) for t in self.available(issue)]}
            )
        return self.do_transition(req, issue)

    def create(self, req: Recorded) -> Reply:
        bad = self._err(400, ["Invalid request payload. Refer to the REST API documentation and try again."])
        data = self.json_body(req, bad, {"fields", "update", "transition", "properties", "historyMetadata"})
        fields = data.get("fields")
        if not isinstance(fields, dict):
            raise self.violation("'fields' object is required", bad)
        unknown = set(fields) - {"project", "summary", "issuetype", "labels", "description", "priority"}
        if unknown:
            raise self.violation(
                f"unexpected fields {sorted(unknown)}",
                self._err(
                    400,
                    errors={
                        k: f"Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."
                        for k in unknown
                    },
                ),
            )
        if not isinstance(fields.get("project"), dict) or not isinstance(fields["project"].get("key"), str):
            raise self.violation(
                "project must be {'key': str}", self._err(400, errors={"project": "Specify a valid project ID or key"})
            )
        if fields["project"]["key"] != self.PROJECT:
            return self._err(400, errors={"project": "valid project is required"})
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise self.violation(
                "summary missing", self._err(400, errors={"summary": "You must specify a summary of the issue."})
            )
        if "\n" in summary or len(summary) > 255:
            raise self.violation(
                "bad summary",
                self._err(400, errors={"summary": "Summary must be less than 255 characters and contain no newline."}),
            )
        itype = fields.get("issuetype")
        if not isinstance(itype, dict) or not isinstance(itype.get("name"), str):
            raise self.violation(
                "issuetype must be {'name': str}", self._err(400, errors={"issuetype": "Specify an issue type"})
            )
        if itype["name"] not in self.ISSUE_TYPES:
            return self._err(400, errors={"issuetype": "Specify a valid issue type"})
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or not all(
            isinstance(x, str) and x and not re.search(r"\s", x) for x in labels
        ):
            raise self.violation(
                f"bad labels {labels!r}", self._err(400, errors={"labels": "Labels cannot contain spaces."})
            )
        problems = adf_problems(fields.get("description"))
        if problems:
            raise self.violation(
                f"description is not ADF: {problems}",
                self._err(
                    400,
                    errors={
                        "description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                    },
                ),
            )
        issue_id = str(self._next_id)
        self._next_id += 1
        key = f"{self.PROJECT}-{len(self.issues) + 1}"
        self.issues[key] = {
            "id": issue_id,
            "key": key,
            "summary": summary,
            "labels": labels,
            "issuetype": itype["name"],
            "description": fields["description"],
            "status": "To Do",
            "comments": [],
            "history": [],
        }
        return Reply(201, {"id": issue_id, "key": key, "self": f"{self.base_url}/rest/api/3/issue/{issue_id}"})

    def add_comment(self, req: Recorded, issue: dict[str, Any]) -> Reply:
        bad = self._err(400, ["Invalid request payload. Refer to the REST API documentation and try again."])
        data = self.json_body(req, bad, {"body", "visibility", "properties"})
        problems = adf_problems(data.get("body"))
        if problems:
            raise self.violation(
                f"comment body is not ADF: {problems}", self._err(400, errors={"comment": "Comment body is not valid!"})
            )
        if not adf_text(data["body"]).strip():
            return self._err(400, errors={"comment": "Comment body can not be empty!"})
        comment_id = str(10100 + sum(len(i["comments"]) for i in self.issues.values()))
        issue["comments"].append(data["body"])
        issue["history"].append("comment")
        return Reply(
            201,
            {
                "id": comment_id,
                "self": f"{self.base_url}/rest/api/3/issue/{issue['id']}/comment/{comment_id}",
                "author": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Guardrail Bot", "active": True},
                "body": data["body"],
                "created": "2026-01-01T00:00:00.000+0000",
                "updated": "2026-01-01T00:00:00.000+0000",
                "jsdPublic": True,
            },
        )

    def available(self, issue: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [t for t in self.transitions if t[2] != issue["status"]]

    def transition_json(self, t: tuple[str, str, str]) -> dict[str, Any]:
        tid, name, to = t
        status = STATUS[to]
        return {
            "id": tid,
            "name": name,
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
            "to": {
                "self": f"{self.base_url}/rest/api/3/status/{status['id']}",
                "name": to,
                "id": status["id"],
                "statusCategory": status["category"],
            },
        }

    def do_transition(self, req: Recorded, issue: dict[str, Any]) -> Reply:
        bad = self._err(400, ["Invalid request payload. Refer to the REST API documentation and try again."])
        data = self.json_body(req, bad, {"transition", "fields", "update", "historyMetadata", "properties"})
        tr = data.get("transition")
        if not isinstance(tr, dict) or not isinstance(tr.get("id"), str):
            raise self.violation("transition must be {'id': str}", bad)
        for t in self.available(issue):
            if t[0] == tr["id"]:
                issue["status"] = t[2]
                issue["history"].append(f"status:{t[2]}")
                return Reply(204)
        return self._err(400, [f"Transition id '{tr['id']}' is not valid for this issue."])

    def issue_json(self, issue: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        status = STATUS[issue["status"]]
        every = {
            "status": {
                "self": f"{self.base_url}/rest/api/3/status/{status['id']}",
                "name": issue["status"],
                "id": status["id"],
                "statusCategory": status["category"],
            },
            "summary": issue["summary"],
            "labels": issue["labels"],
            "description": issue["description"],
            "issuetype": {"name": issue["issuetype"], "id": self.ISSUE_TYPES[issue["issuetype"]]},
        }
        fields = every if wanted in ([""], ["*all"], ["*navigable"]) else {k: every[k] for k in wanted if k in every}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{self.base_url}/rest/api/3/issue/{issue['id']}",
            "fields": fields,
        }

    def search(self, req: Recorded) -> Reply:
        bad = self._err(400, ["Invalid request payload. Refer to the REST API documentation and try again."])
        data = self.json_body(
            req,
            bad,
            {
                "jql",
                "fields",
                "maxResults",
                "nextPageToken",
                "expand",
                "properties",
                "fieldsByKeys",
                "failFast",
                "reconcileIssues",
            },
        )
        jql = data.get("jql")
        if not isinstance(jql, str):
            raise self.violation("jql is required", bad)
        match = re.fullmatch(r'project = "([A-Z][A-Z0-9_]*)" AND labels = "([^"\s]+)"( ORDER BY created DESC)?', jql)
        if not match:
            raise self.violation(f"unexpected JQL {jql!r}", self._err(400, [f"Error in the JQL Query: {jql}"]))
        if not isinstance(data.get("fields"), list):
            raise self.violation("fields should be requested (only ids are returned otherwise)", bad)
        project, label = match.group(1), match.group(2)
        hits = [i for i in self.issues.values() if project == self.PROJECT and label in i["labels"]]
        hits.sort(key=lambda i: int(i["id"]), reverse=True)
        hits = hits[: int(data.get("maxResults", 50))]
        return Reply(200, {"issues": [self.issue_json(i, data["fields"]) for i in hits], "isLast": True})
