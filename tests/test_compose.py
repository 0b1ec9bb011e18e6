"""docker-compose.yml is the production shape; each command must name a real entry point."""

import importlib
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]


def _services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_it_describes_the_production_shape():
    services = _services()
    assert {"postgres", "redis", "web", "worker", "beat", "sandbox"} <= set(services)
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["worker"]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


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
