"""A missing or malformed setting stops the portal with one line naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update({"GUARDRAIL_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "portal.settings", **env_overrides})
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"SECRET_KEY": "k", "DEBUG": "maybe"}, "DEBUG"),
        ({"SECRET_KEY": "k", "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
        ({"SECRET_KEY": "k", "SANDBOX_PORT": "five-thousand"}, "SANDBOX_PORT"),
        ({"SECRET_KEY": "k", "AWS_READ_TIMEOUT": "soon"}, "AWS_READ_TIMEOUT"),
    ],
)
def test_it_refuses_to_start_naming_the_variable(overrides, variable):
    result = _manage(overrides)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_it_starts_with_a_secret_key_and_debug_off():
    result = _manage({"SECRET_KEY": "a-real-secret", "DEBUG": "false"})
    assert result.returncode == 0, result.stderr


def test_it_allows_no_secret_key_only_in_debug():
    result = _manage({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_a_bad_value_that_may_be_a_secret_is_not_echoed(tmp_path):
    """The error goes to the container's log: a password in a malformed DATABASE_URL must not."""
    secret_file = tmp_path / "db"
    secret_file.write_text("nosuchdb://portal:s3cret-Passw0rd@db/guardrail")
    for overrides in ({"DATABASE_URL": "nosuchdb://portal:s3cret-Passw0rd@db/guardrail"},
                      {"DATABASE_URL_FILE": str(secret_file)}):
        result = _manage({"SECRET_KEY": "k", **overrides})
        assert result.returncode == 2 and "DATABASE_URL" in result.stderr
        assert "s3cret-Passw0rd" not in result.stderr and "(hidden)" in result.stderr
    result = _manage({"SECRET_KEY": "k", "SANDBOX_PORT": "five-thousand"})
    assert "'five-thousand'" in result.stderr  # nothing secret: shown, to help
