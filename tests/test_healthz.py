"""/healthz: database, broker and the AWS endpoint, each checked for real."""


def test_it_is_green_with_the_sandbox_running(client, db, sandbox):
    response = client.get("/healthz")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["checks"]["database"]["ok"] and report["checks"]["database"]["detail"] == "sqlite"
    assert report["checks"]["broker"]["ok"]
    assert report["checks"]["aws"]["detail"] == "arn:aws:iam::123456789012:user/guardrail-portal"


def test_it_is_503_naming_aws_when_the_endpoint_is_down(client, db, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = client.get("/healthz")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "failing"
    assert report["checks"]["aws"]["ok"] is False
    assert "EndpointConnectionError" in report["checks"]["aws"]["detail"]
    assert report["checks"]["database"]["ok"] is True


def test_it_reports_a_stale_worker_without_failing(client, db, sandbox):
    from datetime import timedelta

    from django.utils import timezone

    from portal.models import Heartbeat

    Heartbeat.objects.create(name="worker", last_seen=timezone.now() - timedelta(minutes=10))
    report = client.get("/healthz").json()
    assert report["status"] == "ok"
    assert report["info"]["worker"]["ok"] is False
    assert "s ago" in report["info"]["worker"]["detail"]


def test_it_is_not_cached(client, db, sandbox):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]
