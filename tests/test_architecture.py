"""The house rules that keep the code easy to see and change."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_APPS = ["portal", "catalog", "audit", "remediation", "triage", "ops", "security"]
ALL_APPS = PRODUCTION_APPS + ["sandbox"]


def _modules(apps: list[str], include_tests: bool = False):
    for app in apps:
        for path in (ROOT / app).rglob("*.py"):
            if not include_tests and "tests" in path.relative_to(ROOT).parts:
                continue
            yield path


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_it_builds_boto3_clients_in_one_module_only():
    importers = sorted(
        str(p.relative_to(ROOT)) for p in _modules(ALL_APPS, include_tests=True)
        if any(name == "boto3" or name.startswith("boto3.") for name in _imports(p))
    )
    assert importers == ["portal/aws.py"]


def test_it_never_imports_the_sandbox_from_production_code():
    offenders = sorted(
        str(p.relative_to(ROOT)) for p in _modules(PRODUCTION_APPS)
        if any(name == "sandbox" or name.startswith("sandbox.") for name in _imports(p))
    )
    assert offenders == []


def test_it_keeps_modules_short():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in _modules(ALL_APPS)
            if (n := len(p.read_text().splitlines())) > 500 and "migrations" not in p.parts]
    assert long == []
