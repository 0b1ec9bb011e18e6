"""Every URL × {anonymous, admin, developer of the owning team, developer of another team, auditor}.

Later issues add their rows. A URL that is in no row fails `test_it_covers_every_url`.
"""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# The owning team of account 111111111111 and team "payments" is Payments: daisy's. Dan is in Research.
PAYMENTS_ACCOUNT = "111111111111"
NEW_ACCOUNT = {"account_id": "333333333333", "name": "payments-dev", "team": "payments",
               "allowed_regions": ["us-east-1"]}

#        method  url                                       anon  admin daisy  dan  audrey
MATRIX = [
    ("GET", "/", "home", (302, 200, 200, 200, 200)),
    ("GET", "/login/", "login", (200, 302, 302, 302, 302)),
    ("POST", "/logout/", "logout", (302, 302, 302, 302, 302)),
    ("GET", "/health/panel/", "health-panel", (302, 200, 403, 403, 403)),
    ("GET", "/teams/", "team-list", (302, 200, 200, 200, 200)),
    ("GET", "/teams/payments/", "team-detail", (302, 200, 200, 404, 200)),
    ("GET", "/accounts/", "account-list", (302, 200, 200, 200, 200)),
    ("GET", "/accounts/new/", "account-create", (302, 200, 403, 403, 403)),
    ("GET", f"/accounts/{PAYMENTS_ACCOUNT}/", "account-detail", (302, 200, 200, 404, 200)),
    ("GET", f"/accounts/{PAYMENTS_ACCOUNT}/edit/", "account-edit", (302, 200, 403, 403, 403)),
    ("GET", "/admin/", "admin:index", (302, 200, 302, 302, 302)),
    ("GET", "/api/schema/", "schema", (200, 200, 200, 200, 200)),
    ("GET", "/api/docs/", "api-docs", (200, 200, 200, 200, 200)),
    ("GET", "/api/", "api-root", (401, 200, 200, 200, 200)),
    ("GET", "/api/me/", "api-me", (401, 200, 200, 200, 200)),
    ("GET", "/api/teams/", "api-team-list", (401, 200, 200, 200, 200)),
    ("GET", "/api/teams/payments/", "api-team-detail", (401, 200, 200, 404, 200)),
    ("GET", "/api/accounts/", "api-account-list", (401, 200, 200, 200, 200)),
    ("POST", "/api/accounts/", "api-account-list", (401, 201, 403, 403, 403)),
    ("GET", f"/api/accounts/{PAYMENTS_ACCOUNT}/", "api-account-detail", (401, 200, 200, 404, 200)),
    ("PATCH", f"/api/accounts/{PAYMENTS_ACCOUNT}/", "api-account-detail", (401, 200, 403, 403, 403)),
]
# Served, but outside the matrix on purpose, with the reason.
UNMATRIXED = {
    "healthz": "public by design; tests/test_healthz.py checks its answers",
}
WHO = ["anonymous", "admin", "daisy", "dan", "auditor"]


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    body = NEW_ACCOUNT if method == "POST" and url.startswith("/api/accounts") else {"name": "payments-renamed"}
    if url.startswith("/api/"):
        return getattr(client, method.lower())(url, data=json.dumps(body), content_type="application/json")
    return getattr(client, method.lower())(url)


@pytest.mark.parametrize(("method", "url", "name", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX])
@pytest.mark.parametrize("who", range(len(WHO)), ids=WHO)
def test_it_answers_each_role_as_expected(client, people, method, url, name, expected, who):
    user = [None, people.admin, people.daisy, people.dan, people.auditor][who]
    if user is not None:
        client.force_login(user)
    response = _request(client, method, url)
    assert response.status_code == expected[who], (
        f"{method} {url} as {WHO[who]}: {response.status_code}, expected {expected[who]}"
    )


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


def test_it_covers_every_url():
    served = {n for n in _names(get_resolver()) if not n.startswith("admin:") or n == "admin:index"}
    covered = {name for _, _, name, _ in MATRIX} | set(UNMATRIXED)
    assert served - covered == set(), f"URLs missing from the permission matrix: {sorted(served - covered)}"
