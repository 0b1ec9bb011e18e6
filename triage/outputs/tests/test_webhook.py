from __future__ import annotations

import socket

import pytest

from triage.outputs.base import OutputError
from triage.outputs.webhook import webhook_post

from .fake_github import FakeWebhook

SECRET = "XXXXsecretXXXX"


def test_posts_text_and_blocks_as_json(webhook_fake):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Public bucket*"}}]
    webhook_post(webhook_fake.base_url + FakeWebhook.PATH, text="Public bucket", blocks=blocks)
    [req] = webhook_fake.requests
    assert (req.method, req.path) == ("POST", FakeWebhook.PATH)
    assert req.headers["content-type"] == "application/json"
    assert req.json == {"text": "Public bucket", "blocks": blocks}


def test_blocks_are_omitted_when_not_given(webhook_fake):
    webhook_post(webhook_fake.base_url + FakeWebhook.PATH, text="hello")
    assert webhook_fake.requests[0].json == {"text": "hello"}


def test_a_non_2xx_answer_is_an_error_without_the_secret_url(webhook_fake):
    with pytest.raises(OutputError) as info:
        webhook_post(webhook_fake.base_url + "/services/T0000/B0000/wrongSECRETpath", text="x")
    err = info.value
    assert (err.status, err.retryable, err.system) == (404, False, "webhook")
    assert "no_service" in str(err) and "wrongSECRETpath" not in str(err) + repr(err)


@pytest.mark.parametrize("status,retryable", [(500, True), (429, True), (400, False), (403, False), (410, False)])
def test_status_codes_map_to_retryable(webhook_fake, status, retryable):
    webhook_fake.fail_next(status, f"error {FakeWebhook.PATH}")  # even an echoed URL is redacted
    with pytest.raises(OutputError) as info:
        webhook_post(webhook_fake.base_url + FakeWebhook.PATH, text="x")
    assert (info.value.status, info.value.retryable) == (status, retryable)
    assert SECRET not in str(info.value)


def test_a_slow_webhook_is_a_retryable_timeout(webhook_fake):
    webhook_fake.delay = 1.0
    with pytest.raises(OutputError) as info:
        webhook_post(webhook_fake.base_url + FakeWebhook.PATH, text="x", timeout=(5, 0.3))
    assert info.value.retryable and info.value.status is None
    assert SECRET not in str(info.value) and info.value.__cause__ is None


def test_a_refused_connection_is_retryable_and_hides_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OutputError) as info:
        webhook_post(f"http://127.0.0.1:{port}{FakeWebhook.PATH}", text="x")
    assert info.value.retryable and SECRET not in str(info.value)


@pytest.mark.parametrize("url", ["http://hooks.example.com/services/XXXXsecretXXXX", "not a url"])
def test_bad_urls_are_refused_without_echoing_them(url):
    with pytest.raises(OutputError) as info:
        webhook_post(url, text="x")
    assert SECRET not in str(info.value) and "not a url" not in str(info.value)


def test_text_is_required_and_blocks_need_a_type():
    with pytest.raises(OutputError):
        webhook_post("https://hooks.example.com/x", text="")
    with pytest.raises(OutputError):
        webhook_post("https://hooks.example.com/x", text="x", blocks=[{"text": "no type"}])
