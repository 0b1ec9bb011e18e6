"""Known secrets go through the portal's flows — API calls with a token, a launch with a NoEcho value, a ticket
system refusing its token, a webhook whose URL holds its token, a failed sign-in — and then appear in no log
line (DEBUG included), in no column of any table, and in no answer the portal gave."""

import json
import logging
import secrets
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sandbox.testing import kit
from triage.outputs.tests.conftest import jira_fake, webhook_fake  # noqa: F401  (contract-checking stand-ins)
from triage.outputs.tests.fake_jira import FakeJira

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work (tasks are eager) runs at once


def _database_text() -> str:
    """Every row of every table the models know (history tables, tokens and sessions included), as text."""
    rows = []
    for model in apps.get_models(include_auto_created=True):
        fields = [f.attname for f in model._meta.concrete_fields]
        rows += [repr(row) for row in model._base_manager.values_list(*fields)]
    return "\n".join(rows)


def _stop_the_recorder() -> None:
    from audit.services import records_ingest

    records_ingest([{"eventID": f"leak-{secrets.token_hex(4)}", "eventTime": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "eventSource": "config.amazonaws.com", "eventName": "StopConfigurationRecorder",
                     "recipientAccountId": "111111111111", "awsRegion": "us-east-1", "readOnly": False,
                     "requestParameters": {"configurationRecorderName": "default"},
                     "userIdentity": {"type": "IAMUser", "userName": "daisy",
                                      "arn": "arn:aws:iam::111111111111:user/daisy"}}])


def test_no_secret_reaches_a_log_a_table_or_an_answer(people, sandbox, settings, caplog, jira_fake,  # noqa: F811
                                                      webhook_fake):  # noqa: F811
    from catalog.models import LaunchRequest, Product
    from triage import services
    from triage.builtin_signatures import builtin_seed
    from triage.models import Signature, Ticket

    kit("111111111111")  # Daisy's account, where she launches
    caplog.set_level(logging.DEBUG)
    found = {
        "SECRET_KEY": "sk-" + secrets.token_urlsafe(40),
        "TICKETS_JIRA_TOKEN": "jira-" + secrets.token_hex(16),
        "webhook token": "hook" + secrets.token_hex(12),
        "NoEcho value": "Ne" + secrets.token_hex(10),
        "failed password": "pw-" + secrets.token_hex(10),
    }
    settings.SECRET_KEY = found["SECRET_KEY"]
    settings.TICKETS_JIRA_URL, settings.TICKETS_JIRA_EMAIL = jira_fake.base_url, FakeJira.EMAIL
    settings.TICKETS_JIRA_TOKEN, settings.TICKETS_JIRA_PROJECT = found["TICKETS_JIRA_TOKEN"], FakeJira.PROJECT
    settings.ALERT_WEBHOOK_URL = f"{webhook_fake.base_url}/services/T0000/B0000/{found['webhook token']}"
    out = StringIO()
    call_command("api_token", "daisy", stdout=out)
    found["API token"] = out.getvalue().strip()
    answers = []

    def keep(response):
        answers.append(f"{dict(response.items())}\n{response.content.decode(errors='replace')}")
        return response

    api = Client(HTTP_AUTHORIZATION=f"Token {found['API token']}")
    lamp = Product.objects.get(name="LAMP web server")
    body = {"product": lamp.pk, "version": lamp.versions.get(name="v2.0").pk, "name": "leakcheck",
            "parameters": {"DBPassword": found["NoEcho value"], "InstanceType": "t3.small"}}
    created = keep(api.post("/api/launches/", data=json.dumps(body), content_type="application/json"))
    assert created.status_code == 201, created.content
    launch = created.json()["id"]
    assert keep(api.get(f"/api/launches/{launch}/")).json()["status"] == "SUCCEEDED"
    for url in ("/api/me/", "/api/launches/", "/api/events/", f"/api/products/{lamp.pk}/launch-form/?version="
                f"{body['version']}"):
        assert keep(api.get(url)).status_code == 200, url
    assert LaunchRequest.objects.get(pk=launch).secrets  # kept, encrypted: the table check below reads it

    builtin_seed()
    signature = Signature.objects.get(name="config-recorder-stopped")
    services.signature_save(signature=signature, actions=[{"action": "alert"}, {"action": "ticket", "system": "jira"},
                                                          {"action": "webhook"}])
    _stop_the_recorder()
    ticket = Ticket.objects.get()
    assert ticket.last_error and not ticket.key  # Jira refused the token: kept with the reason
    jira_fake.violations.clear()  # the wrong token was the point

    browser = Client()
    keep(browser.post("/login/", {"username": "daisy", "password": found["failed password"]}))
    browser.force_login(people.admin)
    for url in ("/triage/alerts/", "/api/alerts/", f"/catalog/launches/{launch}/", "/security/audit-log/",
                "/notifications/", "/api/signatures/config-recorder-stopped/"):
        assert keep(browser.get(url)).status_code == 200, url

    logs, tables, responses = caplog.text, _database_text(), "\n".join(answers)
    leaks = [f"{name} in {where}" for name, value in found.items()
             for where, text in (("the logs", logs), ("the database", tables), ("an answer", responses))
             if value in text]
    assert leaks == []
    # The checks looked where the values went: the webhook was called at its secret URL, the token's public
    # prefix (knox's lookup key) is in the dump, the launch and the failed sign-in are in the logs and tables.
    assert any(found["webhook token"] in r.path for r in webhook_fake.requests)
    assert found["API token"][:8] in tables and "leakcheck" in tables and "LOGIN_FAILED" in tables
    assert "leakcheck" in responses and logs
