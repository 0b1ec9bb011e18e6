"""Security headers on every page, a Content-Security-Policy without inline script, and templates kept that way."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]


def _csp(response) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in response["Content-Security-Policy"].split(";") if d.strip()}


@pytest.mark.parametrize("url", ["/login/", "/", "/audit/events/", "/api/events/", "/api/docs/"])
def test_it_sends_the_security_headers(client, people, url):
    if url != "/login/":
        client.force_login(people.admin)
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response  # plain HTTP here: no HSTS
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


def test_it_keeps_styles_strict_except_on_the_swagger_page(client, people):
    client.force_login(people.admin)
    assert _csp(client.get("/"))["style-src"] == ["'self'"]
    assert _csp(client.get("/api/docs/"))["style-src"] == ["'self'", "'unsafe-inline'"]
    script = client.get("/api/docs/?script")  # Swagger UI's start-up script is a file, not inline
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@override_settings(SECURE_HSTS_SECONDS=31536000)
def test_it_sends_hsts_over_tls_when_configured(client, people):
    assert client.get("/login/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login/")


def _setting(env: dict[str, str], name: str) -> str:
    import os

    clean = {k: v for k, v in os.environ.items() if k not in {"SECURE_COOKIES", "BEHIND_TLS_PROXY", "SESSION_HOURS",
                                                              "SECURE_HSTS_SECONDS", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT, env={**clean, "GUARDRAIL_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "portal.settings",
                       "SECRET_KEY": "k", **env}, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_it_turns_hsts_on_only_when_the_settings_say_tls():
    assert _setting({}, "SECURE_HSTS_SECONDS") == "0"
    assert _setting({"SECURE_COOKIES": "true"}, "SECURE_HSTS_SECONDS") == "31536000"
    assert _setting({"BEHIND_TLS_PROXY": "true", "SECURE_HSTS_SECONDS": "600"}, "SECURE_HSTS_SECONDS") == "600"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style attribute"),
    (re.compile(r"<style", re.IGNORECASE), "a <style> element"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]


def test_no_template_has_inline_script_or_style():
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            found += [f"{path.relative_to(ROOT)}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert found == [], "the Content-Security-Policy refuses these; use data attributes and guardrail.js/css"


def test_htmx_is_told_not_to_inject_styles_or_eval(client, people):
    client.force_login(people.daisy)
    page = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page
    assert "guardrail/guardrail.js" in page
