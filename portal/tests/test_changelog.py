"""The one change log: every admin-edited model recorded with user and request id, no-op saves skipped, one
History page for any object (admin, developer of the owning team, other developer, auditor), the change log."""

import json

import pytest

from catalog.models import Constraint, Portfolio, Product
from portal.changelog.registry import TRACKED

RECORDED = {"catalog.portfolio", "catalog.product", "catalog.productversion", "catalog.constraint",
            "remediation.rule", "remediation.ruleexception", "remediation.policy",
            "triage.signature", "triage.threatlist", "triage.alarm", "triage.alert",
            "portal.account", "portal.team", "auth.user", "security.groupmapping"}


def _lamp() -> Product:
    return Product.objects.get(name="LAMP web server")


def _edit_portfolio(client, portfolio: Portfolio, request_id: str, **fields):
    data = {"name": portfolio.name, "description": portfolio.description, "owner": portfolio.owner,
            "support_contact": portfolio.support_contact, "teams": [t.pk for t in portfolio.teams.all()], **fields}
    return client.post(f"/catalog/portfolios/{portfolio.pk}/edit/", data, HTTP_X_REQUEST_ID=request_id)


def test_it_records_every_admin_edited_model():
    assert set(TRACKED) == RECORDED
    for tracked in TRACKED.values():
        assert "request_id" in {f.name for f in tracked.model.history.model._meta.fields}, tracked.kind


def test_it_records_who_added_and_removed_a_single_sign_on_rule(client, people):
    from security.models import GroupMapping

    client.force_login(people.admin)
    added = client.post("/security/sso/mappings/", {"idp_group": "guardrail-admins", "target": "role:Admin"},
                        HTTP_X_REQUEST_ID="sso-rule-1")
    assert added.status_code == 302, added.content.decode()[:500]
    rule = GroupMapping.objects.get(idp_group="guardrail-admins")
    assert client.post(f"/security/sso/mappings/{rule.pk}/delete/", HTTP_X_REQUEST_ID="sso-rule-2").status_code == 302
    records = list(GroupMapping.history.order_by("history_date").values_list("history_type", "history_user",
                                                                             "request_id"))
    assert records == [("+", people.admin.pk, "sso-rule-1"), ("-", people.admin.pk, "sso-rule-2")]
    log = client.get("/changelog/?kind=security.groupmapping").content.decode()
    assert "guardrail-admins" in log and "adam" in log
    client.force_login(people.daisy)
    assert client.get("/changelog/?kind=security.groupmapping").status_code == 403


def test_it_records_a_page_edit_with_its_user_and_request_id(client, people):
    client.force_login(people.admin)
    portfolio = Portfolio.objects.get(name="Payments web platform")
    assert _edit_portfolio(client, portfolio, "edit-req-1", owner="Payments team").status_code == 302
    record = portfolio.history.first()
    assert (record.history_user, record.request_id, record.owner) == (people.admin, "edit-req-1", "Payments team")
    html = client.get(f"/changelog/catalog.portfolio/{portfolio.pk}/").content.decode()
    assert "edit-req-1" in html and "Payments team" in html and "adam" in html
    log = client.get("/changelog/?request_id=edit-req-1").content.decode()
    assert "Payments web platform" in log and "owner" in log


def test_it_records_nothing_for_a_save_that_changes_nothing(client, people):
    client.force_login(people.admin)
    portfolio = Portfolio.objects.get(name="Payments web platform")
    before = portfolio.history.count()
    assert _edit_portfolio(client, portfolio, "noop-req").status_code == 302  # same fields, same teams
    _lamp().save()
    assert portfolio.history.count() == before
    assert not Product.history.filter(request_id="noop-req").exists()
    assert "noop-req" not in client.get("/changelog/").content.decode()


def test_it_records_a_many_to_many_change(client, people):
    client.force_login(people.admin)
    portfolio = Portfolio.objects.get(name="Payments web platform")
    research = people.dan.teams.get()
    _edit_portfolio(client, portfolio, "grant-req", teams=[t.pk for t in portfolio.teams.all()] + [research.pk])
    html = client.get(f"/changelog/catalog.portfolio/{portfolio.pk}/").content.decode()
    assert "teams" in html and research.name in html


@pytest.mark.parametrize(("who", "expected"), [("admin", 200), ("daisy", 200), ("dan", 404), ("auditor", 200)])
def test_it_shows_a_products_history_to_whoever_sees_the_product(client, people, who, expected):
    client.force_login(getattr(people, who))
    assert client.get(f"/changelog/catalog.product/{_lamp().pk}/").status_code == expected
    assert client.get(f"/catalog/history/product/{_lamp().pk}/").status_code == expected  # the first address


@pytest.mark.parametrize(("who", "expected"), [("admin", 200), ("daisy", 403), ("dan", 403), ("auditor", 200)])
def test_it_shows_the_change_log_to_admins_and_auditors(client, people, who, expected):
    client.force_login(getattr(people, who))
    assert client.get("/changelog/").status_code == expected
    assert client.get("/catalog/history/").status_code == expected


def test_it_shows_constraint_history_to_admins_and_auditors_only(client, people):
    constraint = Constraint.objects.filter(product=_lamp()).first()
    for user, expected in ((people.admin, 200), (people.daisy, 403), (people.auditor, 200)):
        client.force_login(user)
        assert client.get(f"/changelog/catalog.constraint/{constraint.pk}/").status_code == expected


def test_it_keeps_the_history_of_a_deleted_object_in_the_log(client, people):
    client.force_login(people.admin)
    constraint = Constraint.objects.filter(product=_lamp(), type="TAG").first()
    assert client.delete(f"/api/constraints/{constraint.pk}/", HTTP_X_REQUEST_ID="delete-req").status_code == 204
    log = client.get("/changelog/?kind=catalog.constraint&user=adam").content.decode()
    assert "deleted" in log and "delete-req" in log
    client.force_login(people.auditor)
    assert client.get(f"/changelog/catalog.constraint/{constraint.pk}/").status_code == 200


def test_it_filters_the_log_by_kind_and_user(client, people):
    client.force_login(people.admin)
    client.patch(f"/api/products/{_lamp().pk}/", data=json.dumps({"owner": "Web platform"}),
                 content_type="application/json")
    assert "LAMP web server" in client.get("/changelog/?kind=catalog.product&user=adam").content.decode()
    assert "LAMP web server" not in client.get("/changelog/?kind=catalog.portfolio").content.decode()
    assert "LAMP web server" not in client.get("/changelog/?kind=catalog.product&user=daisy").content.decode()
    rows = client.get("/changelog/?kind=catalog.product", HTTP_HX_REQUEST="true")
    assert b"<html" not in rows.content and b"change-log" in rows.content


def test_it_pages_the_log(client, people):
    client.force_login(people.admin)
    product = _lamp()
    for i in range(55):
        product.owner = f"owner {i}"
        product.save()
    newest = product.history.first()
    first = client.get("/changelog/?kind=catalog.product").content.decode()
    assert f"/changelog/catalog.product/{product.pk}/{newest.history_id}/" in first and "Page 1 of" in first
    assert "Page 2 of" in client.get("/changelog/?kind=catalog.product&page=2").content.decode()


def test_it_steps_through_an_objects_changes(client, people):
    client.force_login(people.admin)
    product = _lamp()
    for owner in ("first owner", "second owner"):
        product.owner = owner
        product.save()
    newest, middle = product.history.all()[:2]
    html = client.get(f"/changelog/catalog.product/{product.pk}/{middle.history_id}/").content.decode()
    assert "first owner" in html and "Previous change" in html
    assert f"/changelog/catalog.product/{product.pk}/{newest.history_id}/" in html  # Next
    assert client.get(f"/changelog/catalog.product/{product.pk}/999999/").status_code == 404
    assert client.get(f"/changelog/catalog.nothing/{product.pk}/").status_code == 404


def test_it_shows_the_records_of_one_request_as_one_change(client, people):
    client.force_login(people.admin)
    portfolio = Portfolio.objects.get(name="Payments web platform")
    research = people.dan.teams.get()
    _edit_portfolio(client, portfolio, "both-req", owner="Both", teams=[research.pk])  # a save, a remove, an add
    assert portfolio.history.filter(request_id="both-req").count() == 3
    html = client.get(f"/changelog/catalog.portfolio/{portfolio.pk}/").content.decode()
    assert html.count("both-req</a>") == 1 and "Both" in html and research.name in html
    log = client.get("/changelog/?request_id=both-req").content.decode()
    assert log.count("Payments web platform") == 1 and "owner, teams" in log


def test_it_records_a_change_of_roles_but_not_a_login(client, people):
    from django.contrib.auth.models import Group

    from portal.request_id import request_id

    token = request_id.set("roles-req")
    try:
        people.daisy.groups.add(Group.objects.get(name="Auditor"))
    finally:
        request_id.reset(token)
    before = people.daisy.history.count()
    assert client.login(username="daisy", password="guardrail-demo")  # sets last_login: not a change
    assert people.daisy.history.count() == before
    assert "password" not in {f.name for f in people.daisy.history.model._meta.fields}
    client.force_login(people.admin)
    html = client.get(f"/changelog/auth.user/{people.daisy.pk}/").content.decode()
    assert "groups" in html and "Auditor" in html and "roles-req" in html
