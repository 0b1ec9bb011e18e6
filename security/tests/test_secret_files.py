"""Secrets come from the environment or from files: `<NAME>_FILE` (Docker and Kubernetes secrets)."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.environment import Settings
from security.tests.test_headers import ROOT

SECRETS = ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "TICKETS_JIRA_TOKEN",
           "TICKETS_GITHUB_TOKEN", "ALERT_WEBHOOK_URL", "METRICS_TOKEN"]
VALUES = {"DATABASE_URL": "postgres://guardrail:pw-from-file@db:5432/guardrail",
          "CELERY_BROKER_URL": "redis://:pw-from-file@redis:6379/0",
          "EMAIL_URL": "smtp+tls://mailer:pw-from-file@smtp.example.com:587",
          "ALERT_WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/pw-from-file"}


def _cfg(environ: dict[str, str]) -> Settings:
    return Settings(SimpleNamespace(ENVIRON=environ))


@pytest.mark.parametrize("name", SECRETS)
def test_it_reads_each_secret_from_its_file(tmp_path, name):
    value = VALUES.get(name, f"{name.lower()}-from-file")
    secret = tmp_path / name
    secret.write_text(value + "\n")  # a trailing line break, as editors and `echo` leave it
    cfg = _cfg({f"{name}_FILE": str(secret)})
    assert cfg.str(name, "") == value
    if name == "DATABASE_URL":
        assert cfg.db(name, "sqlite:///x")["PASSWORD"] == "pw-from-file"
    if name == "EMAIL_URL":
        assert cfg.email(name, "consolemail://")["EMAIL_HOST_PASSWORD"] == "pw-from-file"


def test_the_variable_itself_still_works_and_both_at_once_is_refused(tmp_path):
    assert _cfg({"SECRET_KEY": "plain"}).str("SECRET_KEY", "") == "plain"
    (tmp_path / "k").write_text("from-file")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY and SECRET_KEY_FILE are both set"):
        _cfg({"SECRET_KEY": "plain", "SECRET_KEY_FILE": str(tmp_path / "k")}).str("SECRET_KEY", "")


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="TICKETS_JIRA_TOKEN_FILE=.*cannot be read"):
        _cfg({"TICKETS_JIRA_TOKEN_FILE": str(tmp_path / "missing")}).str("TICKETS_JIRA_TOKEN", "")


def test_the_portal_starts_with_its_secret_key_from_a_file(tmp_path):
    (tmp_path / "secret_key").write_text("a-secret-key-kept-in-a-file\n")
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update({"GUARDRAIL_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "portal.settings",
                "SECRET_KEY_FILE": str(tmp_path / "secret_key"), "DEBUG": "false"})
    check = "from django.conf import settings; print(settings.SECRET_KEY == 'a-secret-key-kept-in-a-file')"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", check], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
    env["SECRET_KEY_FILE"] = str(tmp_path / "nope")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 2 and "SECRET_KEY_FILE" in result.stderr and "Traceback" not in result.stderr
