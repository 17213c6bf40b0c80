"""The package is laid out the way the data moves, and imports only flow downhill.

Reads every import (module level, inside functions and under ``TYPE_CHECKING``)
of ``pipeline/``, ``dags/`` and ``plugins/`` with ``ast`` and fails on an
import cycle between modules and on an import against the layer order below,
which the README's "Where the code is" section documents.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Lowest first.  A module may import its own package and anything in a lower rank.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("pipeline.records", "pipeline.settings", "pipeline.topics", "pipeline.envrefs", "pipeline.errors", "pipeline"),
    ("pipeline.ingest", "pipeline.claims", "pipeline.quality"),
    ("pipeline.alerting",),
    ("pipeline.detection",),
    ("pipeline.store",),
    ("pipeline.steps",),
    ("pipeline.orchestration",),
    ("pipeline.app",),
)
VOCABULARY = LAYERS[0]
# The Airflow side of the repository sees only the top layers and the shared vocabulary.
EDGE_MAY_IMPORT = ("pipeline.orchestration", "pipeline.app", *VOCABULARY)
MAX_MODULE_LINES = 600


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str) -> set[str]:
    """Every ``pipeline`` module that ``source`` imports, wherever the import statement stands."""
    found: set[str] = set()
    package = module if module.count(".") == 0 else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
    return {m for m in found if m == "pipeline" or m.startswith("pipeline.")}


def import_graph(roots: Iterable[Path], repo: Path) -> dict[str, set[str]]:
    """module -> the project modules it imports (names that are not modules are dropped)."""
    sources = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            base = repo if root.name == "pipeline" else root
            name = module_name(path, base)
            sources[name if root.name == "pipeline" else f"{root.name}.{name}"] = path.read_text(encoding="utf-8")
    modules = set(sources)
    return {name: {m for m in imports_of(src, name) if m in modules} - {name} for name, src in sources.items()}


def within(module: str, prefix: str) -> bool:
    """Whether ``module`` is ``prefix`` or inside it (``pipeline`` itself is only its ``__init__``)."""
    return module == prefix or (prefix != "pipeline" and module.startswith(prefix + "."))


def package_of(module: str) -> str | None:
    """The entry of LAYERS a module belongs to."""
    found = [p for layer in LAYERS for p in layer if within(module, p)]
    return max(found, key=len) if found else None


def rank(module: str) -> int | None:
    package = package_of(module)
    return next((i for i, layer in enumerate(LAYERS) if package in layer), None)


def layer_violations(graph: Mapping[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if module.startswith(("dags.", "plugins.")):
                if not any(within(target, p) for p in EDGE_MAY_IMPORT):
                    out.append(f"{module} -> {target} (DAG files and plugins import only the top layers)")
                continue
            mine, theirs = rank(module), rank(target)
            if mine is None or theirs is None:
                out.append(f"{module} -> {target} (a module in no layer: add it to LAYERS and the README)")
            elif package_of(module) == package_of(target) or (mine == 0 and theirs == 0):
                continue
            elif theirs >= mine:
                out.append(f"{module} -> {target} (imports upwards or sideways: {package_of(target)})")
    return out


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The import cycles, one per strongly connected component (Tarjan), each as its sorted modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph([REPO_ROOT / "pipeline", REPO_ROOT / "dags", REPO_ROOT / "plugins"], REPO_ROOT)


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_imports_follow_the_layer_order(graph: dict[str, set[str]]) -> None:
    assert layer_violations(graph) == []


def test_every_stage_has_a_docstring_that_says_what_it_does() -> None:
    for init in sorted((REPO_ROOT / "pipeline").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 12, f"{init.parent.name}: a one-paragraph docstring says what it does"


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in (REPO_ROOT / "pipeline").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


# --- the checks themselves can fail ----------------------------------------------------


def _tree(tmp_path: Path, files: Mapping[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph([tmp_path / "pipeline", tmp_path / "dags"], tmp_path)


def test_an_upward_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "pipeline/__init__.py": "",
            "pipeline/records.py": "",
            "pipeline/store/__init__.py": "",
            "pipeline/store/db.py": "from pipeline.records import x\n",
            "pipeline/ingest/__init__.py": "",
            "pipeline/ingest/feeds.py": "def f():\n    from pipeline.store import db\n",
            "dags/d.py": "from pipeline.orchestration import edge\n",
        },
    )
    assert graph["pipeline.ingest.feeds"] == {"pipeline.store", "pipeline.store.db"}
    assert layer_violations(graph) == [
        "pipeline.ingest.feeds -> pipeline.store (imports upwards or sideways: pipeline.store)",
        "pipeline.ingest.feeds -> pipeline.store.db (imports upwards or sideways: pipeline.store)",
    ]


def test_a_type_checking_import_from_a_dag_into_a_lower_layer_is_caught(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "pipeline/__init__.py": "",
            "pipeline/store/__init__.py": "",
            "pipeline/store/db.py": "",
            "dags/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pipeline.store.db import x\n",
        },
    )
    assert layer_violations(graph) == [
        "dags.d -> pipeline.store.db (DAG files and plugins import only the top layers)",
    ]


def test_a_cycle_is_caught(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "pipeline/__init__.py": "",
            "pipeline/detection/__init__.py": "",
            "pipeline/detection/pairs.py": "from pipeline.detection import engine\n",
            "pipeline/detection/engine.py": "def f():\n    from pipeline.detection.pairs import g\n",
        },
    )
    assert cycles(graph) == [["pipeline.detection.engine", "pipeline.detection.pairs"]]
