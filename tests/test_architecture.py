"""The house rules that keep the code easy to see and change.

Dependencies point one way: portal ← catalog, audit ← remediation ← triage; ops, security and onboarding may read any app;
production code never imports the sandbox. The module graph is built from every import statement, those inside
functions and under `if TYPE_CHECKING:` too (an import hidden in a function is still an arrow), and must have no
arrow against that direction and no cycle between modules. Where a lower app needs a higher one, the higher one
registers itself (audit.handoffs, the timeline sources, catalog's launch checks, the dry run's signatures, the
demo's parts).
"""

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_APPS = ["portal", "catalog", "audit", "remediation", "triage", "ops", "security", "onboarding"]
ALL_APPS = PRODUCTION_APPS + ["sandbox"]
# An app may import only apps on a lower floor (and itself); ops, security and onboarding may read any app; the sandbox sits
# above all (it may import anything, nothing imports it).
FLOOR = {"portal": 0, "catalog": 1, "audit": 1, "remediation": 2, "triage": 3, "ops": 4, "security": 4, "onboarding": 4, "sandbox": 5}
READS_ANY = {"ops", "security", "onboarding"}


def _modules(apps: list[str], include_tests: bool = False, root: Path = ROOT):
    for app in apps:
        for path in (root / app).rglob("*.py"):
            if not include_tests and "tests" in path.relative_to(root).parts:
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


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """{module: {module it imports: line}} over the apps' and the sandbox's source (tests left out), every import
    at any depth; `from package import module` is an arrow to the module, relative imports resolved."""
    paths = {_module_name(p, root): p for p in _modules(ALL_APPS, root=root)}

    def known(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, int]] = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        arrows = graph.setdefault(module, {})
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in paths else base for a in node.names]
            else:
                continue
            for target in filter(None, map(known, targets)):
                if target != module:
                    arrows.setdefault(target, node.lineno)
    return graph


def against_direction(graph: dict[str, dict[str, int]]) -> list[str]:
    wrong = []
    for module, arrows in graph.items():
        app = module.split(".")[0]
        for target, line in arrows.items():
            other = target.split(".")[0]
            if other == app or app in READS_ANY:
                continue
            if FLOOR[other] >= FLOOR[app]:
                wrong.append(f"{module} (line {line}) imports {target}")
    return sorted(wrong)


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, arrows = work[-1]
            for target in arrows:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph.get(target, {}))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def test_it_keeps_every_import_in_one_direction():
    assert against_direction(module_graph()) == []


def test_it_has_no_import_cycle_between_modules():
    assert cycles(module_graph()) == []


def _source_copy(tmp_path: Path) -> Path:
    for app in ALL_APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("tests", "templates", "static",
                                                                                   "__pycache__", "*.html"))
    return tmp_path


def _plant(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + code)


def _new(after: list, before: list) -> list:
    """What the plant added (the planted tests prove the checks, whatever the tree holds today)."""
    return [item for item in after if item not in before]


def test_it_fails_on_a_planted_reverse_import(tmp_path):
    root = _source_copy(tmp_path)
    before = module_graph(root)
    _plant(root / "audit" / "selectors.py", "def _planted():\n    from remediation.models import Finding\n")
    after = module_graph(root)
    assert _new(cycles(after), cycles(before)) == []
    [wrong] = _new(against_direction(after), against_direction(before))
    assert wrong.startswith("audit.selectors (line ") and wrong.endswith(") imports remediation.models")


def test_it_fails_on_a_planted_import_between_siblings(tmp_path):
    root = _source_copy(tmp_path)
    before = against_direction(module_graph(root))
    _plant(root / "catalog" / "selectors.py", "from audit import selectors as audit_selectors\n")
    assert [w.split(" (")[0] for w in _new(against_direction(module_graph(root)), before)] == ["catalog.selectors"]


def test_it_fails_on_a_planted_cycle(tmp_path):
    root = _source_copy(tmp_path)
    before = module_graph(root)
    assert "catalog.cfn.loader" in before["catalog.cfn.parameters"]  # the arrow the plant closes into a circle
    _plant(root / "catalog" / "cfn" / "loader.py", "def _planted():\n    from .parameters import extract_parameters\n")
    after = module_graph(root)
    assert _new(cycles(after), cycles(before)) == [["catalog.cfn.loader", "catalog.cfn.parameters"]]
    assert _new(against_direction(after), against_direction(before)) == []


def test_it_lets_ops_and_security_read_any_app_and_no_app_read_them(tmp_path):
    root = _source_copy(tmp_path)
    before = against_direction(module_graph(root))
    _plant(root / "ops" / "selectors.py", "def _planted():\n    from triage.models import Alert\n")
    assert _new(against_direction(module_graph(root)), before) == []
    _plant(root / "triage" / "selectors.py", "def _planted():\n    from ops.models import TaskRun\n")
    assert [w.split(" (")[0] for w in _new(against_direction(module_graph(root)), before)] == ["triage.selectors"]


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
