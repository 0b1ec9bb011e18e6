"""A production portal as docker-compose.yml starts it: `migrate`, then `setup` from GUARDRAIL_ADMIN_* (no demo
seed), then gunicorn, a worker, beat and the sandbox AWS — on a fresh PostgreSQL database and a Redis db of its own.

The portal comes up healthy with the built-ins (every policy in dry run) and one person, the admin `setup` made,
who signs in with the password given; no demo people, teams or accounts. `setup` run again changes nothing.
"""

import os
import re
from urllib.parse import urlsplit

import pytest
import redis
import requests

from tests.integration.stack import ADMIN, database_create, database_drop, redis_db_of_its_own, run, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    server = os.environ["DATABASE_URL"]
    database = database_create(server, urlsplit(server).path.lstrip("/") + "_setup_shape")
    broker = redis_db_of_its_own(os.environ["REDIS_URL"])
    try:
        with running_stack(tmp_path_factory.mktemp("setup-shape"), database_url=database, broker_url=broker,
                           workers=1, demo=False) as stack:
            yield stack
    finally:
        database_drop(database)
        redis.Redis.from_url(broker).flushdb()


def test_setup_starts_a_portal_with_the_builtins_and_no_demo_data(stack):
    admin_name = ADMIN["GUARDRAIL_ADMIN_USERNAME"]
    assert stack.sql("SELECT username, is_superuser FROM auth_user") == [(admin_name, True)]
    assert stack.sql("SELECT COUNT(*) FROM portal_account") == [(0,)]
    assert stack.sql("SELECT COUNT(*) FROM portal_team") == [(0,)]

    admin = stack.api(admin_name)
    policies = admin.get("/api/policies/")["results"]
    assert policies and {p["mode"] for p in policies} == {"dry_run"}
    assert admin.get("/api/rules/")["count"] >= 10
    assert admin.get("/api/signatures/")["count"] >= 10
    assert admin.get("/api/accounts/")["count"] == 0

    browser = requests.Session()
    browser.get(f"{stack.url}/login/", timeout=30)
    signed_in = browser.post(f"{stack.url}/login/", timeout=30, allow_redirects=False, data={
        "username": admin_name, "password": stack.admin_password,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"]}, headers={"Referer": f"{stack.url}/login/"})
    assert signed_in.status_code == 302, signed_in.text[:500]


def test_setup_again_changes_nothing_and_never_shows_the_password(stack):
    output = run("setup again", stack.command("setup"), stack.env("setup"), stack.workdir / "setup-again.log")
    assert "Nothing to change" in output
    logs = "".join(path.read_text(errors="replace") for path in stack.workdir.glob("*.log"))
    assert stack.admin_password not in logs
    assert re.search(r"Built-in remediation policies: \d+ policy\(ies\) added, in dry run", logs)
