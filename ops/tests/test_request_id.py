"""X-Request-ID: echoed or made, on every log record of the request and of the tasks it queued, carried on by
tasks that queue tasks; LOG_FORMAT=json writes one object a line."""

import json
import logging
import re

import pytest
from celery import shared_task, signals
from django.http import HttpResponse
from django.urls import path

from ops.logs import JsonFormatter, RequestIdFilter
from portal.request_id import current_task, request_id
from portal.celery import app as celery_app

pytestmark = pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
logger = logging.getLogger("ops.tests.probe")
HEX = re.compile(r"[0-9a-f]{32}")


@shared_task(name="ops.tests.probe")
def probe(word: str) -> None:
    logger.info("probe says %s", word)


@shared_task(name="ops.tests.probe_parent")
def probe_parent() -> None:
    logger.info("parent runs")
    probe.delay("from the parent")  # eager: runs here and now
    celery_app.send_task("ops.tests.probe", args=["published"])  # published: headers as a worker would see them


def _queue_probe(request):
    logger.info("view runs")
    probe.delay("from the view")
    return HttpResponse("queued")


urlpatterns = [path("probe/", _queue_probe)]


@pytest.fixture
def published():
    """The headers of every task message published during the test; the broker's queue emptied after."""
    seen: list[dict] = []

    def capture(headers=None, **kwargs):
        seen.append(dict(headers))

    signals.before_task_publish.connect(capture, weak=False)
    yield seen
    signals.before_task_publish.disconnect(capture)
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


def test_it_echoes_a_sane_request_id(client, db):
    response = client.get("/login/", HTTP_X_REQUEST_ID="lb-4f2a.9_x")
    assert response["X-Request-ID"] == "lb-4f2a.9_x"


def test_it_makes_one_when_there_is_none(client, db):
    first, second = client.get("/login/")["X-Request-ID"], client.get("/login/")["X-Request-ID"]
    assert HEX.fullmatch(first) and HEX.fullmatch(second) and first != second


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "semi;colon", "new\\nline", "ünï", "<script>"])
def test_it_replaces_a_value_that_is_not_sane(client, db, bad):
    assert HEX.fullmatch(client.get("/login/", HTTP_X_REQUEST_ID=bad)["X-Request-ID"])


def test_it_puts_the_id_on_every_log_record_of_the_request(client, people, caplog):
    client.force_login(people.daisy)
    with caplog.at_level(logging.INFO):
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")  # Django logs the 404 after the middleware
    assert [r.request_id for r in caplog.records if r.name == "django.request"] == ["req-404"]
    assert request_id.get() is None  # cleared once the response is closed


@pytest.mark.urls(__name__)
def test_an_eager_task_queued_by_a_request_logs_with_its_id(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="ops.tests.probe"):
        response = client.get("/probe/", HTTP_X_REQUEST_ID="req-eager")
    assert response["X-Request-ID"] == "req-eager"
    lines = {r.getMessage(): r for r in caplog.records if r.name == "ops.tests.probe"}
    assert lines["view runs"].request_id == lines["probe says from the view"].request_id == "req-eager"
    assert (lines["view runs"].task_name, lines["probe says from the view"].task_name) == ("", "ops.tests.probe")
    assert lines["probe says from the view"].task_id


def test_a_task_takes_the_id_from_its_headers_and_carries_it_on(db, caplog, published):
    """What a worker does with a message published during a request, tried with apply(headers=...)."""
    with caplog.at_level(logging.INFO, logger="ops.tests.probe"):
        probe_parent.apply(headers={"request_id": "req-web"})
    assert {r.getMessage(): r.request_id for r in caplog.records if r.name == "ops.tests.probe"} == {
        "parent runs": "req-web", "probe says from the parent": "req-web"}
    assert [h["request_id"] for h in published] == ["req-web"]
    assert request_id.get() is None and current_task.get() is None  # put back after the task


def test_the_request_id_goes_into_the_headers_of_a_published_task(db, published):
    token = request_id.set("req-publish")
    try:
        celery_app.send_task("ops.tests.probe", args=["x"])
        celery_app.send_task("ops.tests.probe", args=["y"], headers={"request_id": "chosen"})
    finally:
        request_id.reset(token)
    celery_app.send_task("ops.tests.probe", args=["z"])
    assert [h.get("request_id") for h in published] == ["req-publish", "chosen", None]


def test_a_task_nothing_with_an_id_queued_starts_its_own_chain(db, caplog):
    with caplog.at_level(logging.INFO, logger="ops.tests.probe"):
        result = probe.apply(args=["alone"], headers={"request_id": "not sane!"})
    [record] = [r for r in caplog.records if r.name == "ops.tests.probe"]
    assert record.request_id == record.task_id == result.id


def test_the_filter_and_the_json_format():
    record = logging.LogRecord("guardrail.x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    token, task_token = request_id.set("req-json"), current_task.set(("tid-1", "audit.tasks.x"))
    try:
        RequestIdFilter().filter(record)
    finally:
        current_task.reset(task_token)
        request_id.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("time").endswith("Z")
    assert entry == {"level": "WARNING", "logger": "guardrail.x", "message": "hello world", "request_id": "req-json",
                     "task_id": "tid-1", "task_name": "audit.tasks.x"}
    bare = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", (), None)
    RequestIdFilter().filter(bare)
    assert set(json.loads(JsonFormatter().format(bare))) == {"time", "level", "logger", "message"}


def test_log_format_json_is_the_console_handlers_format(monkeypatch):
    import importlib

    import portal.settings

    monkeypatch.setenv("LOG_FORMAT", "json")
    try:
        reloaded = importlib.reload(portal.settings)
        assert reloaded.LOGGING["handlers"]["console"]["formatter"] == "json"
        assert reloaded.LOGGING["formatters"]["json"] == {"()": "ops.logs.JsonFormatter"}
        monkeypatch.setenv("LOG_FORMAT", "xml")
        with pytest.raises(Exception, match="LOG_FORMAT='xml'"):
            importlib.reload(portal.settings)
    finally:
        monkeypatch.delenv("LOG_FORMAT")
        importlib.reload(portal.settings)
