import json

import pytest


def _post(client, body):
    return client.post("/api/accounts/", data=json.dumps(body), content_type="application/json")


def test_it_shows_a_developer_only_her_teams_accounts(client, people):
    client.force_login(people.daisy)
    ids = [a["account_id"] for a in client.get("/api/accounts/").json()["results"]]
    assert ids == ["111111111111"]


def test_it_shows_an_auditor_every_account(client, people):
    client.force_login(people.auditor)
    assert client.get("/api/accounts/").json()["count"] == 3


def test_it_creates_an_account_as_admin(client, people):
    client.force_login(people.admin)
    response = _post(client, {"account_id": "444444444444", "name": "payments-dev", "team": "payments",
                              "allowed_regions": ["eu-west-1", "us-east-1", "us-east-1"]})
    assert response.status_code == 201, response.content
    assert response.json()["allowed_regions"] == ["eu-west-1", "us-east-1"]
    client.force_login(people.daisy)
    assert client.get("/api/accounts/444444444444/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account_id": "12345", "name": "x", "team": "payments", "allowed_regions": ["us-east-1"]}, "account_id"),
        ({"account_id": "555555555555", "name": "x", "team": "nope", "allowed_regions": ["us-east-1"]}, "team"),
        ({"account_id": "555555555555", "name": "x", "team": "payments", "allowed_regions": ["mars-1"]},
         "allowed_regions"),
        ({"account_id": "555555555555", "name": "x", "team": "payments", "allowed_regions": []}, "allowed_regions"),
        ({"account_id": "111111111111", "name": "x", "team": "payments", "allowed_regions": ["us-east-1"]},
         "account_id"),
        ({"account_id": "555555555555", "name": "<script>" * 40, "team": "payments",
          "allowed_regions": ["us-east-1"]}, "name"),
    ],
)
def test_it_names_each_bad_field(client, people, body, field):
    client.force_login(people.admin)
    response = _post(client, body)
    assert response.status_code == 400
    assert field in response.json()


def test_it_refuses_to_change_an_account_id(client, people):
    client.force_login(people.admin)
    response = client.patch("/api/accounts/111111111111/", data=json.dumps({"account_id": "999999999999"}),
                            content_type="application/json")
    assert response.status_code == 400
    assert "account_id" in response.json()


def test_it_renames_an_account(client, people):
    client.force_login(people.admin)
    response = client.patch("/api/accounts/111111111111/", data=json.dumps({"name": "payments-live"}),
                            content_type="application/json")
    assert response.status_code == 200
    assert response.json()["name"] == "payments-live"
    assert response.json()["team"] == "payments"


def test_it_answers_malformed_json_with_400(client, people):
    client.force_login(people.admin)
    response = client.post("/api/accounts/", data="{not json", content_type="application/json")
    assert response.status_code == 400
