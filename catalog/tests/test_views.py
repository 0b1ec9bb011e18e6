"""The admin's catalog pages: forms, uploads with line-numbered errors, diagram, preview, history."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import CaptureQueriesContext
from django.db import connection

from catalog import services
from catalog.models import Constraint, Portfolio, Product

from catalog.tests.test_api import LAMP_V1


@pytest.fixture
def lamp(people):
    return Product.objects.get(name="LAMP web server")


def test_it_creates_a_portfolio_from_the_form(client, people):
    client.force_login(people.admin)
    research = people.dan.teams.get()
    response = client.post("/catalog/portfolios/new/", {"name": "Research kit", "owner": "Platform",
                                                        "teams": [research.pk]})
    assert response.status_code == 302
    assert list(Portfolio.objects.get(name="Research kit").teams.all()) == [research]


def test_it_uploads_a_version_as_a_file(client, people, lamp):
    client.force_login(people.admin)
    upload = SimpleUploadedFile("lamp.yaml", LAMP_V1.replace("First", "Third").encode() + b"\n# v3\n")
    response = client.post(f"/catalog/products/{lamp.pk}/versions/new/",
                           {"name": "v3.0", "guidance": "DEFAULT", "template_file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert lamp.versions.filter(name="v3.0").exists()


def test_it_shows_line_numbered_errors_for_a_bad_upload(client, people, lamp):
    client.force_login(people.admin)
    response = client.post(f"/catalog/products/{lamp.pk}/versions/new/",
                           {"name": "v3.0", "guidance": "DEFAULT", "template": "Resources:\n  A: [\n"})
    assert response.status_code == 200
    assert "line" in response.content.decode().lower()
    assert not lamp.versions.filter(name="v3.0").exists()


def test_it_refuses_a_binary_upload(client, people, lamp):
    client.force_login(people.admin)
    upload = SimpleUploadedFile("x.yaml", b"\xff\xfe\x00\x01" * 10)
    response = client.post(f"/catalog/products/{lamp.pk}/versions/new/",
                           {"name": "bin", "guidance": "DEFAULT", "template_file": upload})
    assert response.status_code == 200 and b"not UTF-8" in response.content


def test_it_draws_the_template(client, people, lamp):
    client.force_login(people.daisy)
    html = client.get(f"/catalog/versions/{lamp.versions.get(name='v2.0').pk}/").content.decode()
    assert "<svg" in html and "WebServerSecurityGroup" in html and "WebServer" in html
    assert "NoEcho" in html


def test_it_adds_a_constraint_from_the_form(client, people, lamp):
    client.force_login(people.admin)
    response = client.post(f"/catalog/products/{lamp.pk}/constraints/new/", {
        "type": "TAG", "definition": '{"key": "owner", "value": "payments", "locked": true}', "portfolio": "",
    })
    assert response.status_code == 302
    assert Constraint.objects.filter(product=lamp, definition__key="owner").exists()


def test_it_shows_constraint_json_errors_with_their_place(client, people, lamp):
    client.force_login(people.admin)
    response = client.post(f"/catalog/products/{lamp.pk}/constraints/new/",
                           {"type": "TAG", "definition": '{"key": "owner",', "portfolio": ""})
    assert response.status_code == 200 and b"line 1" in response.content


def test_it_previews_daisys_form_for_adam(client, people, lamp):
    client.force_login(people.admin)
    html = client.get(f"/catalog/products/{lamp.pk}/preview/?team=payments").content.decode()
    assert "CC-PAY-001" in html and "locked" in html
    assert "c5.9xlarge" not in html
    assert "Payments web servers are t3.micro, t3.small or t3.medium" in html


def _catalog_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/catalog/").status_code == 200
        assert client.get("/api/products/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["admin", "daisy"])
def test_it_keeps_catalog_queries_flat_as_products_grow(client, people, lamp, who):
    client.force_login(getattr(people, who))
    portfolio = lamp.portfolios.get()
    before = _catalog_queries(client)
    for i in range(15):
        product = services.product_create(user=people.admin, name=f"Product {i}", portfolios=[portfolio])
        services.version_create(user=people.admin, product=product, name="v1", template=LAMP_V1)
    assert _catalog_queries(client) == before
