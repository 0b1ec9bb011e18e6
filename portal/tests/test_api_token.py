from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken


def _token(username: str) -> str:
    out = StringIO()
    call_command("api_token", username, stdout=out)
    return out.getvalue().strip()


def test_it_prints_a_token_that_authenticates(client, people):
    token = _token("daisy")
    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json() == {"username": "daisy", "roles": ["Developer"], "teams": ["payments"]}


def test_it_never_stores_the_token_in_clear(people):
    token = _token("audrey")
    for row in AuthToken.objects.values("digest", "token_key"):
        assert token not in row["digest"]
        assert row["token_key"] != token


def test_it_refuses_a_wrong_token(client, people):
    _token("daisy")
    response = client.get("/api/me/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401


def test_it_names_an_unknown_user(people):
    with pytest.raises(CommandError, match="nobody"):
        _token("nobody")
