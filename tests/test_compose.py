"""docker-compose.yml is the production shape; each command must name a real entry point."""

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]


def _services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_it_describes_the_production_shape():
    services = _services()
    assert {"postgres", "redis", "web", "worker-fast", "worker-bulk", "beat", "sandbox"} <= set(services)
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["worker-fast"]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


def _check_command(command: list[str]) -> None:
    program, args = command[0], command[1:]
    if program == "gunicorn":
        module, attr = args[0].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
    elif program == "celery":
        app_module = args[args.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "guardrail"
        assert args[args.index("-A") + 2] in {"worker", "beat"}
    elif program == "python":
        assert args[0] == "manage.py" and (ROOT / "manage.py").exists()
        assert args[1] in get_commands(), f"no management command {args[1]!r}"
    else:
        raise AssertionError(f"unknown program {program!r}")


def test_each_command_names_a_real_entry_point():
    checked = 0
    for service in _services().values():
        if "command" in service:
            _check_command(service["command"])
            checked += 1
    assert checked >= 5


def test_the_procfile_names_real_entry_points():
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, command = line.split(":", 1)
        words = command.split()
        words[0] = Path(words[0]).name
        _check_command(words)


# --- the production set-up: `setup` after `migrate`, the portal after `setup`, every setting passed ---------------

SETTINGS = ROOT / "portal" / "settings.py"
# Settings docker-compose.yml does not pass, and why: the image fixes them, or they serve development only.
NOT_PASSED = {
    "DEBUG": "development only",
    "STATIC_ROOT": "the image's (collected at build)",
    "WHITENOISE_USE_FINDERS": "the image's (Dockerfile ENV)",
    "BROKER_FOLDER": "the embedded broker's (compose has Redis)",
    "CELERY_TASK_ALWAYS_EAGER": "tests only",
    "GUARDRAIL_DEMO_LOGINS": "the demo's (sandbox only)",
    "SANDBOX_PORT": "the sandbox's", "SANDBOX_CLOUDTRAIL_FLUSH_SECONDS": "the sandbox's",
    "SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS": "the sandbox's (its service passes it)",
    "SANDBOX_FLOWLOG_SECONDS": "the sandbox's", "SANDBOX_DEMO_NETWORK": "the sandbox's",
    "SANDBOX_ENFORCE_IAM": "the sandbox's",
    "SANDBOX_CLOUDFORMATION_RESOURCE_SECONDS": "the sandbox's (its service passes it)",
}
# Where the file means another default than the portal's (a deployment's, not a developer's machine).
OTHER_DEFAULTS = {"GUARDRAIL_SANDBOX", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}


def settings_read() -> dict[str, object]:
    """{setting: its default where that is a literal (else ...)} for every variable portal/settings.py reads."""
    found: dict[str, object] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "cfg":
            try:
                default = ast.literal_eval(node.args[1]) if len(node.args) > 1 else ...
            except ValueError:
                default = ...
            found.setdefault(node.args[0].value, default)
        elif isinstance(func, ast.Name) and func.id == "_sandbox_default":
            found.setdefault(node.args[0].value, ...)
    return found


def _compose_default(value: str) -> str | None:
    match = re.fullmatch(r"\$\{\w+:-(?P<default>[^}]*)\}", value)
    return match["default"] if match else None


def test_setup_runs_once_migrated_and_the_portal_once_set_up():
    services = _services()
    assert services["setup"]["command"] == ["python", "manage.py", "setup"]
    assert services["setup"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["setup"]["restart"] == "no"
    for name in ("web", "worker-fast", "worker-bulk", "beat"):
        assert services[name]["depends_on"]["setup"] == {"condition": "service_completed_successfully"}
        assert not any(k.startswith("GUARDRAIL_ADMIN_") for k in services[name]["environment"]), name
    for name in ("GUARDRAIL_ADMIN_USERNAME", "GUARDRAIL_ADMIN_EMAIL", "GUARDRAIL_ADMIN_PASSWORD",
                 "GUARDRAIL_ADMIN_PASSWORD_FILE"):
        assert services["setup"]["environment"][name] == f"${{{name}:-}}"


def test_it_passes_every_setting_a_deployment_needs_with_the_portals_defaults():
    read = settings_read()
    assert {"AWS_MANAGEMENT_ACCOUNT_ID", "AWS_EXTERNAL_ID", "AWS_PORTAL_PRINCIPAL_ARN", "SECRET_KEY"} <= set(read)
    for service in ("web", "worker-fast", "worker-bulk", "beat", "setup", "migrate"):
        environment = _services()[service]["environment"]
        missing = set(read) - set(environment) - set(NOT_PASSED)
        assert not missing, f"{service}: docker-compose.yml does not pass {sorted(missing)}"
    environment = _services()["web"]["environment"]
    for name, default in read.items():
        if name in NOT_PASSED or name in OTHER_DEFAULTS:
            continue
        given = _compose_default(str(environment[name]))
        assert given is not None, f"{name}: pass it as ${{{name}:-…}}"
        if isinstance(default, bool):
            assert given == str(default).lower(), f"{name}: the file's default {given!r} is not the portal's"
        elif default is ...:  # computed: passed empty, the portal computes it (a string read may default to it)
            assert given == "", f"{name}: pass it as ${{{name}:-}}"
        elif isinstance(default, list):
            assert given == ",".join(default), f"{name}: the file's default {given!r} is not the portal's"
        elif isinstance(default, str):
            assert given == default, f"{name}: the file's default {given!r} is not the portal's {default!r}"
        else:  # a number: passed empty, the portal's own default applies
            assert given == "", f"{name}: pass it as ${{{name}:-}} (the portal's default: {default})"


def test_the_readme_settings_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    rows = {name for line in readme.splitlines() if line.startswith("| ")
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])}
    missing = (set(settings_read()) | {"GUARDRAIL_ADMIN_USERNAME", "GUARDRAIL_ADMIN_EMAIL",
                                       "GUARDRAIL_ADMIN_PASSWORD", "GUARDRAIL_ENV_FILE"}) - rows
    assert not missing, f"README's settings table does not list {sorted(missing)}"


def _compose_env(service: str, given: dict[str, str]) -> dict[str, str]:
    from tests.integration.stack import compose_services

    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV"}}
    return {**keep, **compose_services(given)[service].environment, "GUARDRAIL_ENV_FILE": os.devnull,
            "DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": f"sqlite:///{given['DB']}",
            "CELERY_BROKER_URL": "memory://"}


def test_the_files_environment_starts_the_portal_only_with_an_organisation_of_its_own(tmp_path):
    """Every value the file passes, empty ones included, is one the portal reads; against real AWS it names what
    is missing; with the organisation's settings it starts, with the portal's defaults for the rest."""
    show = ("from django.conf import settings as s; print(s.SESSION_COOKIE_AGE, s.AWS_MAX_ATTEMPTS, "
            "s.AWS_REMEDIATION_ROLE_NAME, s.SECURE_HSTS_SECONDS, s.LOGIN_FAILURES_PER_IP)")
    base = {"SECRET_KEY": "compose-test-key", "DB": str(tmp_path / "db.sqlite3")}
    refused = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", show], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env=_compose_env("web", base))
    assert refused.returncode == 2
    assert "AWS_MANAGEMENT_ACCOUNT_ID is not set" in refused.stderr and "AWS_EXTERNAL_ID" in refused.stderr
    organisation = {"AWS_MANAGEMENT_ACCOUNT_ID": "210987654321", "AWS_EXTERNAL_ID": "e7b1c0ffee",
                    "AWS_PORTAL_PRINCIPAL_ARN": "arn:aws:iam::210987654321:role/guardrail-portal"}
    started = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", show], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env=_compose_env("web", {**base, **organisation}))
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["28800", "3", "GuardrailRemediation", "0", "20"]
    sandbox = ("from django.conf import settings as s; print(s.AWS_MANAGEMENT_ACCOUNT_ID, s.AWS_EXTERNAL_ID, "
               "s.AWS_ACCESS_KEY_ID, s.AWS_PORTAL_PRINCIPAL_ARN)")
    with_sandbox = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", sandbox], cwd=ROOT,
                                  capture_output=True, text=True, timeout=120,
                                  env=_compose_env("web", {**base, "GUARDRAIL_SANDBOX": "true"}))
    assert with_sandbox.returncode == 0, with_sandbox.stderr  # the file's empty values: the sandbox's defaults
    assert with_sandbox.stdout.split() == ["123456789012", "guardrail-sandbox", "AKIAGUARDRAILPORTAL0",
                                           "arn:aws:iam::123456789012:user/guardrail-portal"]


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index(f"\n## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start:end if end > 0 else None]


def _kit_parameters(path: Path) -> set[str]:
    """The template's parameter names (read as text: CloudFormation's !Ref tags are not plain YAML)."""
    block = re.search(r"^Parameters:\n(?P<body>(?:[ #].*\n|\n)*)", path.read_text(), re.MULTILINE)
    return set(re.findall(r"^  (\w+):", block["body"], re.MULTILINE)) if block else set()


def test_the_readme_connects_an_organisation_step_by_step_with_the_kits_names():
    section = _readme_section("Connect your AWS organisation")
    for step in ("quick-create", "aws cloudformation deploy", "--template-file deploy/aws/guardrail-member-account.yaml",
                 "--stack-name guardrail-member-account", "--capabilities CAPABILITY_NAMED_IAM",
                 "aws cloudformation create-stack-set", "--permission-model SERVICE_MANAGED",
                 "--auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false",
                 "aws cloudformation create-stack-instances", "--deployment-targets OrganizationalUnitIds=",
                 "deploy/aws/guardrail-management-account.yaml", "Admin → Accounts → Connect", "connection check",
                 "AWS_MANAGEMENT_ACCOUNT_ID", "AWS_EXTERNAL_ID", "AWS_PORTAL_PRINCIPAL_ARN"):
        assert step in section, step
    names = {"guardrail-member-account.yaml": {"PortalPrincipalArn", "ExternalId", "TrailMode",
                                               "OrganizationTrailBucket"},
             "guardrail-management-account.yaml": {"PortalPrincipalArn", "ExternalId", "PortalUserName",
                                                   "PortalRoleName"}}
    for template, parameters in names.items():
        path = ROOT / "deploy" / "aws" / template
        if path.exists():  # the kit's own file, where it is in the tree: the README names exactly its parameters
            parameters = _kit_parameters(path)
            assert parameters, f"{template}: no Parameters block found"
        for parameter in parameters:
            assert f"`{parameter}`" in section or f"{parameter}=" in section, f"{template}: {parameter}"
