"""Started against real AWS (GUARDRAIL_SANDBOX=false), the portal refuses to run on a sandbox default and names the
setting: web (gunicorn's import of the WSGI app), workers and beat (Celery's configuration) and every command."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.environment import SANDBOX_VALUES, production_refusals

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"AWS_MANAGEMENT_ACCOUNT_ID": "210987654321", "AWS_EXTERNAL_ID": "c0ffee-4d9a-external",
              "AWS_PORTAL_PRINCIPAL_ARN": "arn:aws:iam::210987654321:role/guardrail-portal"}
GOOD = {"account_id": "210987654321", "external_id": "c0ffee-4d9a-external",
        "principal_arn": "arn:aws:iam::210987654321:role/guardrail-portal", "access_key_id": "",
        "secret_access_key": "", "demo_logins": False}


def test_a_production_configuration_is_accepted():
    assert production_refusals(**GOOD) == []
    assert production_refusals(**{**GOOD, "access_key_id": "AKIAREALKEY000000000", "secret_access_key": "s",
                                  "principal_arn": "arn:aws-us-gov:iam::210987654321:user/path/portal"}) == []


@pytest.mark.parametrize(("change", "named"), [
    ({"account_id": ""}, "AWS_MANAGEMENT_ACCOUNT_ID is not set"),
    ({"account_id": SANDBOX_VALUES["AWS_MANAGEMENT_ACCOUNT_ID"]}, "AWS_MANAGEMENT_ACCOUNT_ID=123456789012 is the sandbox"),
    ({"account_id": "12345"}, "not a 12-digit AWS account id"),
    ({"external_id": ""}, "AWS_EXTERNAL_ID is not set"),
    ({"external_id": "guardrail-sandbox"}, "AWS_EXTERNAL_ID is the sandbox's known value"),
    ({"external_id": "has spaces in it"}, "AWS_EXTERNAL_ID is not a valid ExternalId"),
    ({"principal_arn": ""}, "AWS_PORTAL_PRINCIPAL_ARN is not set"),
    ({"principal_arn": "arn:aws:iam::210987654321:group/admins"}, "is not an IAM user or role ARN"),
    ({"principal_arn": "arn:aws:iam::123456789012:user/guardrail-portal"}, "in the sandbox's account"),
    ({"access_key_id": "AKIAGUARDRAILPORTAL0", "secret_access_key": "x"}, "AWS_ACCESS_KEY_ID is the sandbox's"),
    ({"access_key_id": "AKIAREAL", "secret_access_key": "guardrail-sandbox-portal"}, "AWS_SECRET_ACCESS_KEY is the"),
    ({"access_key_id": "AKIAREAL"}, "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY"),
    ({"demo_logins": True}, "GUARDRAIL_DEMO_LOGINS"),
])
def test_each_sandbox_default_is_refused_by_name(change, named):
    refusals = production_refusals(**{**GOOD, **change})
    assert len(refusals) == 1 and named in refusals[0]


def _run(argv: list[str], overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "GUARDRAIL_", "DJANGO_")) and k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env.update({"GUARDRAIL_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "portal.settings",
                "SECRET_KEY": "a-real-secret", "GUARDRAIL_SANDBOX": "false", **overrides})
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_portal_started_on_sandbox_defaults_refuses_naming_each_setting():
    result = _run(["manage.py", "check"], {})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for name in ("AWS_MANAGEMENT_ACCOUNT_ID", "AWS_EXTERNAL_ID", "AWS_PORTAL_PRINCIPAL_ARN"):
        assert f"{name} is not set" in lines[0]


def test_the_sandbox_key_is_refused_without_its_secret_being_echoed():
    result = _run(["manage.py", "check"], {**PRODUCTION, "AWS_ACCESS_KEY_ID": SANDBOX_VALUES["AWS_ACCESS_KEY_ID"],
                                           "AWS_SECRET_ACCESS_KEY": SANDBOX_VALUES["AWS_SECRET_ACCESS_KEY"]})
    assert result.returncode == 2 and "AWS_ACCESS_KEY_ID is the sandbox's known key" in result.stderr
    assert SANDBOX_VALUES["AWS_SECRET_ACCESS_KEY"] not in result.stderr


def test_web_and_workers_refuse_too_and_start_with_settings_of_its_own():
    web = ["-c", "import portal.wsgi"]  # what gunicorn does first
    celery = ["-m", "celery", "-A", "portal", "report"]  # the Celery app with its configuration, as worker and beat
    for argv in (web, celery):
        refused = _run(argv, {})
        assert refused.returncode != 0
        assert "AWS_MANAGEMENT_ACCOUNT_ID is not set" in refused.stdout + refused.stderr
    for argv in (web, celery):
        started = _run(argv, PRODUCTION)
        assert started.returncode == 0, started.stderr
    checked = _run(["manage.py", "check"], PRODUCTION)
    assert checked.returncode == 0, checked.stderr
