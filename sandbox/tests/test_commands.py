"""`sandbox_credentials` prints a person's own working keys; `sandbox` serves until told to stop."""

import io
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from portal import aws, services
from portal.roles import Role
from sandbox.operator import operator_client
from sandbox.testing import member

REPO = pathlib.Path(__file__).resolve().parents[2]


def _run(username: str) -> list[str]:
    out = io.StringIO()
    call_command("sandbox_credentials", username, stdout=out)
    return out.getvalue().splitlines()


def test_it_prints_a_persons_own_working_keys(sandbox, people):
    member("111111111111", "222222222222")  # the people's accounts exist (their administrator makes the keys)
    lines = _run("daisy")
    assert [line.split("=", 1)[0] for line in lines] == [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"]
    values = dict(line.split("=", 1) for line in lines)
    assert values["AWS_ENDPOINT_URL"] == sandbox.endpoint
    assert values["AWS_DEFAULT_REGION"] == settings.AWS_DEFAULT_REGION
    sts = aws.client("sts", access_key_id=values["AWS_ACCESS_KEY_ID"],
                     secret_access_key=values["AWS_SECRET_ACCESS_KEY"])
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::111111111111:user/daisy"

    admin = dict(line.split("=", 1) for line in _run("adam"))
    admin_sts = aws.client("sts", access_key_id=admin["AWS_ACCESS_KEY_ID"],
                           secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])
    assert admin_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{settings.AWS_MANAGEMENT_ACCOUNT_ID}:user/adam"


def test_it_keeps_at_most_two_keys_and_the_newest_works(sandbox, people):
    member("222222222222")
    keys = [dict(line.split("=", 1) for line in _run("dan"))["AWS_ACCESS_KEY_ID"] for _ in range(3)]
    listed = operator_client("iam", "222222222222").list_access_keys(UserName="dan")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == set(keys[1:])


def test_it_explains_what_it_cannot_do(sandbox, people):
    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        _run("nobody")
    services.user_ensure(username="loner", role=Role.DEVELOPER)
    with pytest.raises(CommandError, match="loner has no sandbox account"):
        _run("loner")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{closed}"
    try:
        with pytest.raises(CommandError, match="not answering .* start it with make run"):
            _run("daisy")
    finally:
        settings.AWS_ENDPOINT_URL = sandbox.endpoint


def test_it_serves_until_sigterm(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.test_settings", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--no-bootstrap"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        ready = process.stdout.readline()
        assert f"Sandbox AWS ready at http://127.0.0.1:{port}" in ready, ready
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Sandbox AWS stopped." in output
    time.sleep(0.1)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
