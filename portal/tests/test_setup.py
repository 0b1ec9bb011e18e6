"""`manage.py setup`: a production portal with the built-ins and one admin — no demo people, no demo accounts, no
known password; policies in dry run until an admin says so; idempotent; the password never shown."""

import logging
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.models import Portfolio
from portal.models import Account, Team
from portal.roles import is_admin
from remediation.builtin import BUILTIN_POLICIES, BUILTIN_RULES
from remediation.demo import DEMO_ENFORCED, DEMO_RULES
from remediation.models import Policy, PolicyMode, Rule
from triage.builtin_signatures import BUILTIN, FLOW_BUILTIN
from triage.models import Signature, ThreatList

PASSWORD = "Plat-form-owner-7f3k2"


def _setup(monkeypatch, *args: str, password: str | None = PASSWORD) -> str:
    if password is None:
        monkeypatch.delenv("GUARDRAIL_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("GUARDRAIL_ADMIN_PASSWORD", password)
    out = StringIO()
    call_command("setup", "--admin-username", "alice", "--admin-email", "alice@example.org", *args, stdout=out,
                 stderr=out)
    return out.getvalue()


def test_it_installs_the_builtins_and_one_admin_and_nothing_of_the_demo(db, monkeypatch):
    output = _setup(monkeypatch)
    users = list(get_user_model().objects.all())
    assert [u.username for u in users] == ["alice"]
    alice = users[0]
    assert is_admin(alice) and alice.is_superuser and alice.is_staff and alice.email == "alice@example.org"
    assert alice.check_password(PASSWORD) and not alice.check_password(settings.DEMO_PASSWORD)
    assert set(Rule.objects.values_list("name", flat=True)) == {spec.name for spec in BUILTIN_RULES}
    assert set(Policy.objects.values_list("name", flat=True)) == {spec.name for spec in BUILTIN_POLICIES}
    assert set(Policy.objects.values_list("mode", flat=True)) == {PolicyMode.DRY_RUN}
    assert set(Signature.objects.filter(builtin=True).values_list("name", flat=True)) == {
        spec["name"] for spec in BUILTIN + FLOW_BUILTIN}
    assert Account.objects.count() == 0 and Team.objects.count() == 0
    assert Portfolio.objects.count() == 0 and ThreatList.objects.count() == 0
    assert "Guardrail is set up." in output and "created" in output


def test_a_second_run_changes_nothing_and_says_so(db, monkeypatch):
    _setup(monkeypatch)
    policy = Policy.objects.get(name="open-ssh-revoke")
    policy.mode = PolicyMode.ENFORCE  # the admin decided
    policy.save()
    Rule.objects.filter(name="restricted-ssh").update(description="ours")
    before = {table: _count(table) for table in ("auth_user", "remediation_rule", "remediation_policy",
                                                  "triage_signature")}

    output = _setup(monkeypatch, password="another-Password-93k")  # a different password changes no password

    assert {table: _count(table) for table in before} == before
    assert "Nothing to change: Guardrail was already set up." in output
    assert "left as it is" in output
    assert Policy.objects.get(name="open-ssh-revoke").mode == PolicyMode.ENFORCE
    assert Rule.objects.get(name="restricted-ssh").description == "ours"
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 — a fixed table name of the test's own
        return cursor.fetchone()[0]


def test_the_password_comes_from_a_file_without_its_line_break(db, monkeypatch, tmp_path):
    secret = tmp_path / "admin-password"
    secret.write_text(PASSWORD + "\n")
    _setup(monkeypatch, "--admin-password-file", str(secret), password=None)
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)


@pytest.mark.parametrize(("password", "says"), [
    (None, "GUARDRAIL_ADMIN_PASSWORD"),
    ("", "GUARDRAIL_ADMIN_PASSWORD"),
    ("Sh0rt!", "too short"),
    ("password123", "too common"),
])
def test_a_missing_or_weak_password_is_refused_and_nothing_is_installed(db, monkeypatch, password, says):
    with pytest.raises(CommandError, match=says) as refused:
        _setup(monkeypatch, password=password)
    assert "alice" in str(refused.value)
    if password:
        assert password not in str(refused.value)
    assert get_user_model().objects.count() == 0
    assert Rule.objects.count() == 0 and Policy.objects.count() == 0 and Signature.objects.count() == 0


def test_other_mistakes_are_named(db, monkeypatch, tmp_path):
    (tmp_path / "pw").write_text(PASSWORD)
    with pytest.raises(CommandError, match="given twice"):
        _setup(monkeypatch, "--admin-password-file", str(tmp_path / "pw"))
    with pytest.raises(CommandError, match="cannot be read"):
        _setup(monkeypatch, "--admin-password-file", str(tmp_path / "missing"), password=None)
    monkeypatch.setenv("GUARDRAIL_ADMIN_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="not an email address"):
        call_command("setup", "--admin", "alice", "--email", "alice", stdout=StringIO())  # CONTRACT.md's names
    with pytest.raises(CommandError, match="no admin username"):
        call_command("setup", "--admin-username", " ", "--admin-email", "a@example.org", stdout=StringIO())
    with pytest.raises(CommandError, match="username 'al ice' is refused"):
        call_command("setup", "--admin-username", "al ice", "--admin-email", "a@example.org", stdout=StringIO())
    get_user_model().objects.create_user(username="alice", password=PASSWORD)  # someone, not an admin
    with pytest.raises(CommandError, match="exists and is not an admin"):
        _setup(monkeypatch)
    assert Rule.objects.count() == 0


def test_the_arguments_may_come_from_the_environment_as_docker_compose_gives_them(db, monkeypatch):
    monkeypatch.setenv("GUARDRAIL_ADMIN_USERNAME", "root-admin")
    monkeypatch.setenv("GUARDRAIL_ADMIN_EMAIL", "platform@example.org")
    monkeypatch.setenv("GUARDRAIL_ADMIN_PASSWORD", PASSWORD)
    call_command("setup", stdout=StringIO())
    assert get_user_model().objects.get().username == "root-admin"


def test_the_password_is_never_printed_or_logged(db, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    output = _setup(monkeypatch)
    output += _setup(monkeypatch)
    captured = capsys.readouterr()
    for text in (output, captured.out, captured.err, caplog.text):
        assert PASSWORD not in text


def test_the_admin_signs_in_and_decides_when_a_policy_enforces(client, db, monkeypatch):
    _setup(monkeypatch)
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/compliance/policies/").status_code == 200
    assert client.get("/admin/auth/user/add/").status_code == 200  # where the admin adds people
    response = client.post("/compliance/policies/open-ssh-revoke/mode/", {"mode": "enforce"})
    assert response.status_code == 302
    assert Policy.objects.get(name="open-ssh-revoke").mode == PolicyMode.ENFORCE


def test_the_demo_uses_the_same_builtins_and_enforces_its_four(db):
    call_command("seed_demo", stdout=StringIO())
    assert set(Rule.objects.values_list("name", flat=True)) == {s.name for s in BUILTIN_RULES + DEMO_RULES}
    modes = dict(Policy.objects.values_list("name", "mode"))
    assert modes == {spec.name: PolicyMode.ENFORCE if spec.name in DEMO_ENFORCED else PolicyMode.DRY_RUN
                     for spec in BUILTIN_POLICIES}
    assert Signature.objects.filter(builtin=True).count() == len(BUILTIN + FLOW_BUILTIN)


def test_the_demo_is_refused_without_the_sandbox(db, settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="GUARDRAIL_SANDBOX"):
        call_command("seed_demo", stdout=StringIO())
    assert get_user_model().objects.count() == 0
