"""CSRF everywhere: every page refuses a POST without the token; the API does too with a session, not with a token."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from portal.tests.test_permission_matrix import MATRIX, ids  # noqa: F401  (the matrix's objects, to fill its URLs)

PAGES = sorted({row[1] for row in MATRIX if not row[1].startswith(("/api/", "/admin/"))}) + ["/admin/login/",
                                                                                            "/admin/auth/user/add/"]


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_refuses_a_post_without_the_token(csrf_client, people, ids, url):  # noqa: F811
    csrf_client.force_login(people.admin)
    response = csrf_client.post(url.format(**ids), {"name": "x", "username": "adam", "password": "guardrail-demo"})
    assert response.status_code == 403, url
    assert b"CSRF" in response.content


def test_a_post_with_the_token_goes_through(csrf_client, people):
    page = csrf_client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = csrf_client.post("/login/", {"username": "daisy", "password": "guardrail-demo",
                                            "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    csrf_client.get("/")
    response = csrf_client.post("/logout/", HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value)
    assert response.status_code == 302  # htmx sends it as X-CSRFToken (hx-headers in base.html)


def _callbacks(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _callbacks(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_page_is_exempt_from_csrf():
    """DRF's views are exempt from Django's check and make their own (SessionAuthentication), tested below."""
    exempt = [route for route, callback in _callbacks(get_resolver())
              if getattr(callback, "csrf_exempt", False) and not hasattr(callback, "cls")]
    assert exempt == []


PORTFOLIO = {"name": "CSRF portfolio", "teams": ["research"]}


def test_the_api_with_a_session_needs_the_token(csrf_client, people):
    csrf_client.force_login(people.admin)
    post = lambda **headers: csrf_client.post("/api/portfolios/", data=json.dumps(PORTFOLIO),  # noqa: E731
                                              content_type="application/json", **headers)
    refused = post()
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    csrf_client.get("/")  # a page sets the cookie
    assert post(HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value).status_code == 201
    assert csrf_client.get("/api/portfolios/").status_code == 200  # reads need no token


def test_the_api_with_a_token_needs_no_csrf_token(csrf_client, people):
    out = StringIO()
    call_command("api_token", "adam", stdout=out)
    response = csrf_client.post("/api/portfolios/", data=json.dumps(PORTFOLIO), content_type="application/json",
                                HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    assert response.status_code == 201
