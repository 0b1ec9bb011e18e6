"""Alarms on the portal's metrics: crossed and cleared, each told once; no data; bad input named."""

from django.utils import timezone

from portal.models import Notification, Team
from triage import alarms
from triage.models import Alarm, Alert, Signature



def _alert(signature, fingerprint, team):
    now = timezone.now()
    return Alert.objects.create(signature=signature, fingerprint=fingerprint, severity="HIGH", title="t",
                                account_id="111111111111", team=team, first_seen=now, last_seen=now)


def test_an_alarm_crosses_then_clears_and_says_so_each_time(people):
    from triage.builtin_signatures import builtin_seed

    builtin_seed()
    payments = Team.objects.get(slug="payments")
    alarm = alarms.alarm_create(name="payments-alerts", metric="alerts_per_hour", threshold=1, comparison="GTE",
                                team=payments, user=people.admin)
    assert (alarm.state, alarm.value) == ("OK", 0.0)
    signature = Signature.objects.get(name="mfa-disabled")
    first = _alert(signature, "a", payments)
    alarm = alarms.alarm_evaluate(alarm)
    assert alarm.state == "ALARM" and alarm.value == 1.0
    told = Notification.objects.filter(subject__startswith="Alarm payments-alerts crossed")
    assert {n.user.username for n in told} >= {"adam", "daisy"} and "dan" not in {n.user.username for n in told}
    alarms.alarm_evaluate(alarm)  # still in ALARM: nobody told again
    assert Notification.objects.filter(subject__startswith="Alarm payments-alerts crossed").count() == told.count()
    Alert.objects.filter(pk=first.pk).update(first_seen=timezone.now() - timezone.timedelta(hours=2))
    alarm = alarms.alarm_evaluate(alarm)
    assert alarm.state == "OK"
    assert Notification.objects.filter(subject__startswith="Alarm payments-alerts cleared").exists()
    assert [h.state for h in alarm.history.all()] == ["OK", "ALARM", "OK", "INSUFFICIENT_DATA"]


def test_no_data_and_the_other_metrics(people):
    lag = alarms.alarm_create(name="ingest-lag", metric="ingest_lag_seconds", threshold=300)
    assert lag.state == "INSUFFICIENT_DATA" and lag.value is None
    from audit.services import records_ingest

    records_ingest([{"eventID": "lag-1", "eventTime": "2026-01-01T00:00:00Z", "eventSource": "ec2.amazonaws.com",
                     "eventName": "RunInstances", "recipientAccountId": "111111111111"}])
    lag = alarms.alarm_evaluate(lag)
    assert lag.state == "ALARM" and lag.value > 300  # an event from January stored now
    assert alarms.alarm_create(name="non-compliant", metric="non_compliant_resources", threshold=0).state == "OK"


def test_the_page_refuses_bad_alarms_by_name(client, people):
    client.force_login(people.admin)
    page = client.post("/triage/alarms/", {"name": "Bad Name", "metric": "weather", "threshold": "1"}).content.decode()
    assert "name: Use lower-case" in page and "metric: Give one of" in page
    assert "threshold: give a number" in client.post("/triage/alarms/", {"name": "x", "threshold": "lots"}).content.decode()
    assert client.post("/triage/alarms/", {"name": "ok-one", "metric": "open_alerts", "threshold": "5"}).status_code == 302
    assert Alarm.objects.filter(name="ok-one", state="OK").exists()
