"""Schemathesis over the whole OpenAPI schema: no request, however odd, gets a 5xx or an undocumented answer.

Every operation of `/api/schema/` is called in-process through the WSGI app with a knox token, in the
permission matrix's world (one object of each kind) plus the in-process sandbox AWS, so launches,
terminations and scans really reach it. Path parameters name real objects (a random id would only ever
test the 404), and even ids in bodies and queries point at real ones, so validation gets past the lookups.
Each example is rolled back after it. Schemathesis's examples and coverage phases run in full; the random
phase is derandomized, so CI sees the same cases. Nothing is excluded.
"""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.tests.test_permission_matrix import ids  # noqa: F401  (the matrix's world: one object of each kind)

APP = get_wsgi_application()
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Launches are started and changed by their owner's team's developers; an admin would only get 403s.
AS_DAISY = {("POST", "/api/launches/"), ("PATCH", "/api/launches/{id}/")}
# Where each path parameter comes from in `ids` (or a fixed demo name).
PATH_OBJECTS = {
    "accounts": "111111111111", "actions": "{action}", "alerts": "{alert}", "constraints": "{constraint}",
    "dry-runs": "{dry_run}", "events": "{event}", "exceptions": "{exception}", "findings": "{finding}",
    "launches": "{launch}", "policies": "{policy}", "portfolios": "{portfolio}", "products": "{product}",
    "resources": "{resource}", "rules": "restricted-ssh", "signatures": "mfa-disabled", "teams": "payments",
    "versions": "{version}",
}
# Ids in request bodies that name other objects: an integer (or a list of them) is pointed at a real one.
BODY_REFERENCES = {"product": "product", "version": "version", "portfolio": "portfolio",
                   "portfolios": "portfolio", "policies": "policy"}
QUERY_REFERENCES = {"version": "version", "against": "version_old"}


@pytest.fixture
def tokens(people):
    from knox.models import AuthToken

    return {"admin": AuthToken.objects.create(people.admin)[1], "daisy": AuthToken.objects.create(people.daisy)[1]}


def _real_references(case, objects: dict) -> None:
    collection = case.path.split("/")[2]
    for name in case.path_parameters or {}:
        case.path_parameters[name] = PATH_OBJECTS[collection].format(**objects)
    for key, kind in QUERY_REFERENCES.items():
        if type((case.query or {}).get(key)) is int and case.query[key] % 2 == 0:
            case.query[key] = objects[kind]
    if isinstance(case.body, dict):
        for key, kind in BODY_REFERENCES.items():  # the even ids only: odd ones go on naming nothing (or overflow)
            value = case.body.get(key)
            if type(value) is int and value % 2 == 0:
                case.body[key] = objects[kind]
            elif isinstance(value, list) and value and all(type(v) is int for v in value) and value[0] % 2 == 0:
                case.body[key] = [objects[kind]]
        if case.path.startswith("/api/launches/") and isinstance(case.body.setdefault("parameters", {}), dict):
            case.body["parameters"].setdefault("DBPassword", "Passw0rdPassw0rd")  # the demo product's NoEcho one


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_it_answers_every_operation_without_a_server_error_or_a_schema_violation(case, ids, tokens, sandbox,  # noqa: F811
                                                                                 commit_now):
    _real_references(case, ids)
    who = "daisy" if (case.method, case.path) in AS_DAISY else "admin"
    with transaction.atomic():  # every example on the same world: a rename or a deletion must not end the run
        case.call_and_validate(app=APP, headers={"Authorization": f"Token {tokens[who]}"}, checks=CHECKS)
        transaction.set_rollback(True)


# What the generator does not send: bodies and filters built to hurt.

def _api(client, token: str, method: str, url: str, body=None, raw: str | None = None):
    data = raw if raw is not None else json.dumps(body)
    return getattr(client, method)(url, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")


def test_it_names_a_nul_character_deep_in_a_json_body(client, ids, tokens):  # noqa: F811
    from catalog.models import LaunchRequest

    before = LaunchRequest.objects.count()
    response = _api(client, tokens["daisy"], "post", "/api/launches/", {
        "product": ids["product"], "version": ids["version"], "name": "nul",
        "parameters": {"DBPassword": "Passw0rdPassw0rd"}, "tags": {"team-note": "a\x00b"}})
    assert response.status_code == 400
    assert list(response.json()) == ["tags.team-note"]
    assert LaunchRequest.objects.count() == before


def test_it_refuses_json_nested_past_the_limit(client, tokens, people):
    response = _api(client, tokens["admin"], "post", "/api/policies/",
                    raw='{"name": "deep", "event_pattern": ' + "[" * 5_000 + "]" * 5_000 + "}")
    assert response.status_code == 400
    assert "deeper than 100 levels" in response.json()["detail"]


def test_it_refuses_a_body_over_the_limit_naming_it(client, tokens, people):
    response = _api(client, tokens["admin"], "post", "/api/portfolios/", {"name": "x" * 3_000_000})
    assert response.status_code == 400
    assert "2,621,440 bytes" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/resources/?q=", "/api/events/?username=", "/audit/resources/?q="])
def test_it_refuses_a_filter_longer_than_any_filter_means(client, tokens, people, url):
    client.force_login(people.admin)
    response = client.get(url + "x" * 100_000, HTTP_AUTHORIZATION=f"Token {tokens['admin']}")
    assert response.status_code == 400
    assert "100,000 characters" in response.content.decode()
