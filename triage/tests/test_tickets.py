"""One ticket per fingerprint, end to end: an alert raised from stored events opens it in (a contract-checking
stand-in for) Jira or GitHub, new hits comment, resolving closes it, coming back reopens it; the webhook."""

import pytest
from django.test import override_settings
from django.utils import timezone

from audit.services import records_ingest
from triage import services
from triage.builtin_signatures import builtin_seed
from triage.models import Alert, Signature, Ticket
from triage.outputs.tests.conftest import github_fake, jira_fake, webhook_fake  # noqa: F401  (the stand-ins)
from triage.outputs.tests.fake_github import FakeGitHub, FakeWebhook
from triage.outputs.tests.fake_jira import FakeJira

pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


def _stop(n: int) -> list[str]:
    ids = [f"stop-{timezone.now().timestamp()}-{n}"]
    records_ingest([{"eventID": ids[0], "eventTime": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "eventSource": "config.amazonaws.com", "eventName": "StopConfigurationRecorder",
                     "recipientAccountId": "111111111111", "awsRegion": "us-east-1", "readOnly": False,
                     "requestParameters": {"configurationRecorderName": "default"},
                     "userIdentity": {"type": "IAMUser", "userName": "daisy",
                                      "arn": "arn:aws:iam::111111111111:user/daisy"}}])
    return ids


def _with_ticket(system: str, extra=()):
    signature = Signature.objects.get(name="config-recorder-stopped")
    services.signature_save(signature=signature, actions=[{"action": "alert"}, {"action": "ticket", "system": system},
                                                          *extra])


@pytest.mark.parametrize("system", ["jira", "github"])
def test_one_ticket_per_fingerprint_through_its_life(people, system, jira_fake, github_fake):  # noqa: F811
    builtin_seed()
    _with_ticket(system)
    fake = jira_fake if system == "jira" else github_fake
    config = {"TICKETS_JIRA_URL": jira_fake.base_url, "TICKETS_JIRA_EMAIL": FakeJira.EMAIL,
              "TICKETS_JIRA_TOKEN": FakeJira.TOKEN, "TICKETS_JIRA_PROJECT": FakeJira.PROJECT,
              "TICKETS_GITHUB_REPO": FakeGitHub.REPO, "TICKETS_GITHUB_TOKEN": FakeGitHub.TOKEN,
              "TICKETS_GITHUB_API_URL": github_fake.base_url}
    with override_settings(**config):
        _stop(1)
        alert = Alert.objects.get(signature__name="config-recorder-stopped")
        ticket = Ticket.objects.get(fingerprint=alert.fingerprint, system=system)
        assert ticket.key and ticket.state == "open" and ticket.last_step == "create"
        _stop(2)  # the same fingerprint: the alert counts, the ticket is not duplicated (a comment, throttled)
        assert Ticket.objects.count() == 1 and Alert.objects.get(pk=alert.pk).count == 2
        services.alert_status_set(alert=alert, status="RESOLVED", user=people.admin)
        assert Ticket.objects.get(pk=ticket.pk).state == "closed"
        _stop(3)  # it comes back: the resolved alert reopens, and so does the ticket
        assert Alert.objects.get(pk=alert.pk).status == "OPEN"
        reopened = Ticket.objects.get(pk=ticket.pk)
        assert (reopened.state, reopened.last_step, reopened.key) == ("open", "reopen", ticket.key)
    assert len(fake.issues) == 1


def test_a_refused_ticket_is_kept_with_the_reason_and_no_secret(people, jira_fake):  # noqa: F811
    builtin_seed()
    _with_ticket("jira")
    with override_settings(TICKETS_JIRA_URL=jira_fake.base_url, TICKETS_JIRA_EMAIL=FakeJira.EMAIL,
                           TICKETS_JIRA_TOKEN="wrong-token-123", TICKETS_JIRA_PROJECT=FakeJira.PROJECT):
        _stop(1)
    ticket = Ticket.objects.get()
    assert "401" in ticket.last_error or "authentication" in ticket.last_error
    assert "wrong-token-123" not in ticket.last_error and not ticket.key
    jira_fake.violations.clear()  # the wrong token was the point


def test_an_unconfigured_system_says_so(people):
    builtin_seed()
    _with_ticket("github")
    with override_settings(TICKETS_GITHUB_REPO=""):
        _stop(1)
    assert Ticket.objects.get().last_error == "No github ticket system is configured"


def test_the_webhook_hears_of_new_alerts(people, webhook_fake):  # noqa: F811
    builtin_seed()
    services.signature_save(signature=Signature.objects.get(name="config-recorder-stopped"),
                            actions=[{"action": "alert"}, {"action": "webhook"}])
    with override_settings(ALERT_WEBHOOK_URL=webhook_fake.base_url + FakeWebhook.PATH):
        _stop(1)
        _stop(2)
    texts = [r.json["text"] for r in webhook_fake.requests]
    assert len(texts) == 1 and "AWS Config recording stopped" in texts[0]
