import pytest
from django.urls import reverse

from portal.models import Account


def test_it_shows_daisy_her_team_and_account_on_home(client, people):
    client.force_login(people.daisy)
    html = client.get(reverse("home")).content.decode()
    assert "Payments" in html and "111111111111" in html
    assert "222222222222" not in html


def test_it_filters_accounts_with_an_htmx_partial(client, people):
    client.force_login(people.auditor)
    response = client.get("/accounts/?q=research", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "research-dev" in html and "payments-prod" not in html


def test_it_creates_an_account_from_the_form(client, people):
    client.force_login(people.admin)
    team = people.daisy.teams.get()
    response = client.post(reverse("account-create"), {
        "account_id": "666666666666", "name": "payments-staging", "team": team.pk,
        "allowed_regions": ["us-east-1"], "role_name": "",
    })
    assert response.status_code == 302
    assert Account.objects.get(account_id="666666666666").team == team


def test_it_shows_form_errors_for_bad_input(client, people):
    client.force_login(people.admin)
    response = client.post(reverse("account-create"), {"account_id": "abc", "name": "", "allowed_regions": ["x"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "12 digits" in html
    assert "This field is required" in html
    assert not Account.objects.filter(account_id="abc").exists()


def test_it_renders_html_and_json_404s(client, people):
    client.force_login(people.dan)
    html = client.get("/accounts/111111111111/")
    assert html.status_code == 404 and b"Go home" in html.content
    api = client.get("/api/accounts/111111111111/")
    assert api.status_code == 404 and api["Content-Type"].startswith("application/json")


def test_it_renders_the_403_page(client, people):
    client.force_login(people.daisy)
    response = client.get(reverse("account-create"))
    assert response.status_code == 403
    assert b"Your role does not allow this" in response.content


def test_it_renders_the_500_page_without_context():
    from django.test import RequestFactory

    from portal.views.errors import server_error

    response = server_error(RequestFactory().get("/boom"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


@pytest.mark.parametrize("path, kind", [("/api/launches/", "application/json"), ("/catalog/", "text/html")])
def test_it_answers_503_with_retry_after_when_the_database_cannot_be_reached(people, monkeypatch, path, kind):
    """PostgreSQL restarting: the request did nothing; the client is told to ask again, not that the portal broke."""
    from django.db import OperationalError
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(people.daisy)

    def unreachable(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    with monkeypatch.context() as patched:  # the database back before the test's own rollback
        patched.setattr("django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection", unreachable)
        response = client.get(path)
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert response["Content-Type"].startswith(kind)
    assert b"The database cannot be reached just now" in response.content
    assert b"5432" not in response.content  # what failed inside stays in the log


def test_the_daily_analyze_gives_the_planner_statistics(db):
    from django.db import connection

    from portal.tasks import database_analyze

    database_analyze()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'auth_permission'")  # rows since the migrations
        assert cursor.fetchone()[0] > 0


@pytest.mark.parametrize("value, expected", [("42", 42), ("0", 0), ("\u00b2", None), ("\u0664", None), ("-1", None),
                                             ("1e3", None), ("", None), ("9" * 19, None), (str(2 ** 63 - 1), 2 ** 63 - 1)])
def test_an_id_is_ascii_digits_that_fit_a_64_bit_column(value, expected):
    from portal.request_values import as_id

    assert as_id(value) == expected


def test_digit_lookalikes_in_ids_and_limits_are_refused_not_500(client, people):
    client.raise_request_exception = False
    client.force_login(people.admin)
    from django.utils import timezone

    from audit.models import ConfigResource

    group = ConfigResource.objects.create(account_id="111111111111", region="us-east-1",
                                          resource_type="AWS::EC2::SecurityGroup", resource_id="sg-1",
                                          first_seen=timezone.now(), last_changed=timezone.now(),
                                          last_captured=timezone.now())
    answer = client.get(f"/api/resources/{group.pk}/timeline/?limit=\u00b2")
    assert answer.status_code == 400 and "limit" in answer.json()
    assert client.get("/catalog/products/new/?portfolio=\u00b2").status_code == 200
