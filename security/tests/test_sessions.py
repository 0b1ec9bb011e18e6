"""Sessions end when the browser closes and, at the latest, SESSION_HOURS (8) after sign-in."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from security.tests.test_headers import _setting


def test_a_session_lasts_eight_hours_and_ends_with_the_browser(client, people):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    response = client.post("/login/", {"username": "daisy", "password": "guardrail-demo"})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie
    assert cookie["httponly"]
    session = Session.objects.get(session_key=cookie.value)
    assert abs((session.expire_date - timezone.now()) - timedelta(hours=8)) < timedelta(minutes=1)


def test_an_expired_session_sends_the_person_to_the_login_page(client, people):
    client.post("/login/", {"username": "daisy", "password": "guardrail-demo"})
    assert client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_session_hours_come_from_the_environment():
    assert _setting({"SESSION_HOURS": "1.5"}, "SESSION_COOKIE_AGE") == "5400"
