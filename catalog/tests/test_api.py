"""The catalog API of CONTRACT.md, as admins, developers and auditors use it."""

import json
from pathlib import Path

import pytest

from catalog.models import Constraint, Product, ProductVersion
from conftest import samples_dir

LAMP_V1 = (Path(__file__).resolve().parents[1] / "demo" / "lamp-v1.yaml").read_text()


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def lamp(people):
    return Product.objects.get(name="LAMP web server")


def test_it_lets_an_admin_build_a_product_end_to_end(client, people):
    client.force_login(people.admin)
    portfolio = _post(client, "/api/portfolios/", {"name": "Research tools", "description": "x", "teams": ["research"]})
    assert portfolio.status_code == 201, portfolio.content
    product = _post(client, "/api/products/", {"portfolio": portfolio.json()["id"], "name": "Notebook",
                                               "description": "Jupyter", "support_email": "help@example.com"})
    assert product.status_code == 201, product.content
    pid = product.json()["id"]
    version = _post(client, f"/api/products/{pid}/versions/", {"name": "v1", "template": LAMP_V1})
    assert version.status_code == 201, version.content
    params = {p["key"]: p for p in version.json()["parameters"]}
    assert params["DBPassword"]["no_echo"] is True
    assert params["SSHLocation"]["allowed_pattern"] == r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})"
    assert params["InstanceType"]["label"] == "Instance type"
    constraint = _post(client, f"/api/products/{pid}/constraints/",
                       {"type": "PARAMETER", "definition": {"key": "DBName", "value": "notes", "locked": True}})
    assert constraint.status_code == 201, constraint.content
    client.force_login(people.dan)
    listed = client.get("/api/products/").json()["results"]
    assert [p["name"] for p in listed] == ["Notebook"]
    assert listed[0]["portfolio"] == portfolio.json()["id"]
    assert listed[0]["versions"] == [{"id": version.json()["id"], "name": "v1", "guidance": "DEFAULT"}]


def test_it_refuses_a_template_that_does_not_parse_with_its_line(client, people, lamp):
    client.force_login(people.admin)
    response = _post(client, f"/api/products/{lamp.pk}/versions/",
                     {"name": "broken", "template": "Resources:\n  A:\n    Type: [unclosed\n"})
    assert response.status_code == 400
    assert "line" in " ".join(response.json()["template"]).lower()
    assert not ProductVersion.objects.filter(name="broken").exists()


def test_it_refuses_the_invalid_sample_json_with_its_line(client, people, lamp):
    path = Path(samples_dir("templates", "service-catalog-reference-architectures", "s3", "sc-s3-simple-ra.json"))
    client.force_login(people.admin)
    response = _post(client, f"/api/products/{lamp.pk}/versions/", {"name": "s3", "template": path.read_text()})
    assert response.status_code == 400
    assert any("line" in message for message in response.json()["template"])


def test_it_refuses_a_template_with_lint_errors(client, people, lamp):
    client.force_login(people.admin)
    bad = "Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: !Ref Missing\n"
    response = _post(client, f"/api/products/{lamp.pk}/versions/", {"name": "bad", "template": bad})
    assert response.status_code == 400
    assert "Missing" in " ".join(response.json()["template"])


def test_it_refuses_a_duplicate_version_name(client, people, lamp):
    client.force_login(people.admin)
    response = _post(client, f"/api/products/{lamp.pk}/versions/", {"name": "v1.0", "template": LAMP_V1})
    assert response.status_code == 400 and "name" in response.json()


def test_it_stores_the_same_template_once(client, people, lamp):
    client.force_login(people.admin)
    before = ProductVersion.objects.get(product=lamp, name="v1.0").document_id
    response = _post(client, f"/api/products/{lamp.pk}/versions/", {"name": "v1.0-again", "template": LAMP_V1})
    assert response.status_code == 201
    assert ProductVersion.objects.get(pk=response.json()["id"]).document_id == before


@pytest.mark.parametrize(
    ("type_", "definition", "fragment"),
    [
        ("LAUNCH", {"role_arn": "not-an-arn"}, "role_arn"),
        ("LAUNCH", {"role_arn": "arn:aws:iam::111111111111:role/Other"}, "already"),
        ("PARAMETER", {"key": "NoSuchParameter", "value": "x"}, "NoSuchParameter"),
        ("PARAMETER", {"key": "DBName", "locked": True}, "value"),
        ("TAG", {"key": "aws:reserved", "value": "x"}, "key"),
        ("TAG", {"value": "x"}, "key"),
        ("NOTIFICATION", {"emails": ["not-an-email"]}, "email"),
        ("NOTIFICATION", {"sns_topic_arns": ["arn:aws:sqs:us-east-1:111111111111:q"]}, "SNS"),
        ("TEMPLATE", {"Rules": {"R": {"Assertions": [{"Assert": {"Fn::Nope": []}}]}}}, "Fn::Nope"),
        ("TEMPLATE", {"Rules": "all of them"}, "Rules"),
        ("NOPE", {}, "type"),
    ],
)
def test_it_names_what_is_wrong_with_a_constraint(client, people, lamp, type_, definition, fragment):
    client.force_login(people.admin)
    portfolio = lamp.portfolios.get().pk
    response = _post(client, f"/api/products/{lamp.pk}/constraints/",
                     {"type": type_, "definition": definition, "portfolio": portfolio})
    assert response.status_code == 400
    assert fragment.lower() in json.dumps(response.json()).lower()


def test_it_builds_daisys_launch_form_from_the_constraints(client, people, lamp):
    client.force_login(people.daisy)
    v2 = lamp.versions.get(name="v2.0")
    form = client.get(f"/api/products/{lamp.pk}/launch-form/?version={v2.pk}").json()
    fields = {p["key"]: p for p in form["parameters"]}
    assert fields["InstanceType"]["allowed_values"] == ["t3.micro", "t3.small", "t3.medium"]
    assert fields["InstanceType"]["rules"] == ["Payments web servers are t3.micro, t3.small or t3.medium"]
    assert fields["Environment"] | {} == {**fields["Environment"], "locked": True, "value": "production"}
    assert fields["DBPassword"]["no_echo"] is True and fields["DBPassword"]["value"] == ""
    assert fields["DBPassword"]["min_length"] == 12
    assert {"key": "cost-center", "value": "CC-PAY-001", "locked": True} in form["tags"]
    assert {"key": "project", "value": "checkout", "locked": False} in form["tags"]
    assert form["launch_role_arn"] == "arn:aws:iam::111111111111:role/GuardrailLaunch"
    assert [p["key"] for p in form["parameters"]][:4] == ["InstanceType", "Environment", "SSHLocation", "PHPVersion"]


def test_it_previews_another_teams_form_for_an_admin_only(client, people, lamp):
    v2 = lamp.versions.get(name="v2.0")
    client.force_login(people.admin)
    payments = client.get(f"/api/products/{lamp.pk}/launch-form/?version={v2.pk}&team=payments").json()
    research = client.get(f"/api/products/{lamp.pk}/launch-form/?version={v2.pk}&team=research").json()
    assert payments["tags"] and not research["tags"]
    client.force_login(people.daisy)
    assert client.get(f"/api/products/{lamp.pk}/launch-form/?version={v2.pk}&team=research").status_code == 403


def test_it_answers_a_bad_launch_form_query_with_400(client, people, lamp):
    client.force_login(people.daisy)
    assert client.get(f"/api/products/{lamp.pk}/launch-form/").status_code == 400
    assert client.get(f"/api/products/{lamp.pk}/launch-form/?version=abc").status_code == 400
    assert client.get(f"/api/products/{lamp.pk}/launch-form/?version=999999").status_code == 400


def test_it_hides_inactive_versions_from_developers(client, people, lamp):
    v1 = lamp.versions.get(name="v1.0")
    client.force_login(people.admin)
    assert client.patch(f"/api/versions/{v1.pk}/", data=json.dumps({"guidance": "INACTIVE"}),
                        content_type="application/json").status_code == 200
    client.force_login(people.daisy)
    names = [v["name"] for v in client.get(f"/api/products/{lamp.pk}/").json()["versions"]]
    assert names == ["v2.0"]
    assert client.get(f"/api/versions/{v1.pk}/").status_code == 404


def test_it_diffs_the_parameters_of_two_versions(client, people, lamp):
    client.force_login(people.daisy)
    v1, v2 = lamp.versions.get(name="v1.0"), lamp.versions.get(name="v2.0")
    changes = {c["key"]: c for c in client.get(f"/api/versions/{v2.pk}/diff/?against={v1.pk}").json()}
    assert changes["PHPVersion"]["change"] == "added"
    assert changes["DBPassword"]["change"] == "changed"
    assert set(changes) == {"PHPVersion", "DBPassword"}


def test_it_keeps_a_deleted_constraints_history(client, people, lamp):
    client.force_login(people.admin)
    constraint = Constraint.objects.filter(product=lamp, type="TAG").first()
    assert client.delete(f"/api/constraints/{constraint.pk}/").status_code == 204
    history = client.get(f"/catalog/history/constraint/{constraint.pk}/")
    assert history.status_code == 200
    assert b"deleted" in history.content and b"adam" in history.content


def test_it_records_who_changed_what(client, people, lamp):
    client.force_login(people.admin)
    client.patch(f"/api/products/{lamp.pk}/", data=json.dumps({"owner": "Web platform"}),
                 content_type="application/json")
    html = client.get(f"/catalog/history/product/{lamp.pk}/").content.decode()
    assert "Cloud platform team" in html and "Web platform" in html and "adam" in html
    log = client.get("/catalog/history/").content.decode()
    assert "LAMP web server" in log
