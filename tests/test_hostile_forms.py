"""Every form of every page, posted with hostile values: never a 5xx, never reflected unescaped, nothing half-done.

The pages are the permission matrix's GET rows (which cover every URL) that an admin may open. Each form on
them (`method="post"`, `hx-post`, and the GET filter forms) is read with html.parser and sent back with its
own values, one field at a time replaced by each hostile value. An answer that says "no" (a 4xx, or the
form again with its errors) must leave the database as it was; whatever is accepted must be stored in a
form PostgreSQL takes too (no NUL character, raw or as a JSON `\\u0000`), and the page it leads to must not
carry the script unescaped.
"""

import json
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from portal.tests.test_permission_matrix import MATRIX, ids  # noqa: F401  (the matrix's world and its URLs)

SCRIPT = "<script>alert(1)</script>"
HOSTILE = {
    "huge": "x" * 100_000,
    "unicode": "\u202eevil\u200f \U0001F469\u200d\U0001F4BB e\u0301\u0308 \U0001D54F \uFEFF",
    "nul": "a\x00b",
    "script": SCRIPT,
    "sql": "'; DROP TABLE x; --",
    "traversal": "../../etc/passwd",
    "negative": "-1",
    "huge_number": "99999999999999999999999999999",
    "digit_lookalike": "\u00b2",  # "²": str.isdigit() says yes, int() says no
    "json_nul": '{"key": "\\u0000", "value": "\\u0000"}',
    "deep_json": "[" * 50_000 + "]" * 50_000,
}
# The form's own answer when it refuses input: Django's error lists, the pages' Bootstrap error markup.
REFUSED = ("invalid-feedback", "is-invalid", "errorlist", "alert-danger")
PAGES = [(url, name) for method, url, name, expected, *_ in MATRIX
         if method == "GET" and not url.startswith(("/api/", "/admin/", "/metrics")) and expected[1] == 200]


class _Forms(HTMLParser):
    """The forms of a page: where they go, how, and their fields with the values the page gave them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            method = "post" if a.get("method", "").lower() == "post" or "hx-post" in a else "get"
            self._form = {"method": method, "action": a.get("hx-post") or a.get("hx-get") or a.get("action", ""),
                          "fields": {}, "files": set(), "multipart": "multipart" in a.get("enctype", ""),
                          "htmx": "hx-post" in a or "hx-get" in a}
            self.forms.append(self._form)
        elif self._form is None or "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form["files"].add(a["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].setdefault(a["name"], []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                self._form["fields"].setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
            self._form["fields"].setdefault(a["name"], [])
        elif tag == "option" and self._select and ("selected" in a or not self._form["fields"][self._select]):
            values = self._form["fields"][self._select]
            values[:] = [*([v for v in values if "selected" in a] if "selected" in a else []), a.get("value", "")]
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = [""]
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form["fields"].setdefault(a["name"], [a.get("value", "")])

    def handle_data(self, data):
        if self._textarea and self._form:
            self._form["fields"][self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _changes() -> int:
    """Rows written since the connection opened (SQLite counts them), less the audit log's: it records every
    admin's attempt, refused or not, on purpose. Cheap enough for every post."""
    from django.apps import apps

    connection.ensure_connection()
    audited = apps.get_model("security", "AuditEntry").objects.count() if apps.is_installed("security") else 0
    return connection.connection.total_changes - audited


def _nul_stored() -> list[str]:
    """Columns holding a NUL character: PostgreSQL refuses it in text and (as `\\u0000`) in jsonb."""
    from django.apps import apps
    from django.db import models

    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.JSONField):
                    cursor.execute(f'SELECT "{field.column}" FROM "{model._meta.db_table}" '
                                   f'WHERE instr("{field.column}", \'\\u0000\') > 0')
                    stored = any(_has_nul(json.loads(row[0])) for row in cursor.fetchall())
                elif isinstance(field, (models.CharField, models.TextField)):
                    cursor.execute(f'SELECT 1 FROM "{model._meta.db_table}" '
                                   f'WHERE instr(CAST("{field.column}" AS BLOB), X\'00\') > 0')
                    stored = cursor.fetchone() is not None
                else:
                    continue
                if stored:
                    found.append(f"{model._meta.db_table}.{field.column}")
    return found


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_has_nul(v) for v in value)


def _send(client, form: dict, page: str, data: dict, files: dict):
    url = urljoin(page, form["action"] or page)
    htmx = {"HTTP_HX_REQUEST": "true"} if form["htmx"] else {}  # as htmx sends it: the partial's code path
    if form["method"] == "get":
        return client.get(url, {k: v for k, v in data.items()}, **htmx)
    return client.post(url, {**data, **files}, **htmx)


def _verdict(client, response, changes_before: int, label: str) -> str | None:
    """What is wrong with this answer to a hostile value, or None."""
    body = response.content.decode(errors="replace")
    refused = response.status_code >= 400 or any(marker in body for marker in REFUSED)
    if response.status_code >= 500:
        return f"{response.status_code}"
    if SCRIPT in body:
        return "the script came back unescaped"
    if refused and _changes() != changes_before:
        return f"refused ({response.status_code}) but the database changed"
    if response.status_code in (301, 302) and SCRIPT in client.get(response["Location"]).content.decode():
        return "the page it led to shows the script unescaped"
    if not refused and label in ("nul", "json_nul") and (stored := _nul_stored()):
        return f"accepted, and stored a NUL character in {', '.join(stored)} (PostgreSQL refuses it)"
    return None


def test_it_finds_the_forms_it_attacks(client, ids, sandbox):  # noqa: F811
    """A page without a form passes the test below trivially: the parser must find the portal's forms, htmx
    ones among them, or that test proves nothing."""
    client.force_login(get_user_model().objects.get(username="adam"))
    forms = [f for url, _ in PAGES for f in _forms(client.get(url.format(**ids)).content.decode())]
    assert len(forms) >= 30, len(forms)
    assert any(f["htmx"] for f in forms) and any(f["method"] == "post" for f in forms)


@pytest.mark.parametrize("url, name", PAGES, ids=[name for _, name in PAGES])
def test_it_survives_hostile_values_in_every_field(client, ids, sandbox, commit_now, url, name):  # noqa: F811
    client.force_login(get_user_model().objects.get(username="adam"))
    client.raise_request_exception = False  # a 500 is one of the problems listed, not the end of the test
    page, problems = url.format(**ids), []
    for form in _forms(client.get(page).content.decode()):
        fields = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
        for field in [*fields, *form["files"]]:
            for label, value in HOSTILE.items():
                data, files = dict(fields), {}
                if field in form["files"]:
                    files[field] = SimpleUploadedFile(f"../../{label}.txt", value.encode())
                else:
                    data[field] = value
                with transaction.atomic():  # each value tried on the same world: a rename must not move the page
                    before = _changes()
                    problem = _verdict(client, _send(client, form, page, data, files), before, label)
                    transaction.set_rollback(True)
                if problem:
                    problems.append(f"{form['method'].upper()} {form['action'] or page} {field}={label}: {problem}")
    assert not problems, "\n".join(problems)
