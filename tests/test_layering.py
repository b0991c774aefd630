"""The arrows: no Streamlit below the pages, app -> optimiser -> estate, and the layers inside optimiser/."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_importing_estate_and_optimiser_does_not_import_streamlit():
    code = (
        "import sys, estate, optimiser, optimiser.cli;"
        "import pkgutil, importlib;"
        "[importlib.import_module('optimiser.' + m.name) for m in pkgutil.iter_modules(optimiser.__path__)"
        " if m.name not in ('__main__',)];"
        "[importlib.import_module('estate.' + m.name) for m in pkgutil.iter_modules(estate.__path__)];"
        "print('streamlit' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "False"


def test_estate_does_not_import_optimiser():
    for path in (REPO / "estate").rglob("*.py"):
        text = path.read_text()
        assert "import optimiser" not in text and "from optimiser" not in text, path


# The layers of optimiser/, lowest first. A module may import modules of lower layers, and of
# its own layer only without a cycle; every module must be listed (a new one is placed here).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "jsonable", "provenance", "progress", "highs", "report.inert", "report.kpis", "report.words"),
    ("report.programme",),  # issue 11: the programme as people read it (tables only, like kpis and words)
    ("scenario",),
    ("scenario_checks",),
    ("costs", "access"),
    ("outcomes", "search", "partners"),
    ("model", "model_partners", "model_phased"),
    ("solver",),
    ("programme", "plan"),
    ("pipeline",),
    ("alternatives",),
    (
        "report.maps",
        "report.rundir",
        "report.staticmap",
        "report.boardpack",
        "report.pdf",
        "report.runpack",
        "report.files",
        "report.partners",
        "report.differences",
        "report",
    ),
    ("store", "saved_uploads"),
    (
        "background",
        "bench",
        "benders",
        "auth",
        "sweep",
        "sweep.*",
        "partnership",
        "shapley",
        "cli",
        "__main__",
        "__init__",
    ),
)
# Issue 13's re-solve fan-out sits in the top layer beside the sweep it runs on and the cli that calls it.
LAYERS = (*LAYERS[:-1], (*LAYERS[-1], "fanout", "prices", "frontier", "robustness"))
# Issue 14: progress and Stop while the model is built (optimiser.stages) sit at the bottom beside progress.
LAYERS = ((*LAYERS[0], "stages"), *LAYERS[1:])
# Arrows the layers alone would allow but the design forbids: outputs format a Plan, they never
# build or solve one; outcomes come from a plan's decisions alone.
FORBIDDEN = {
    "report": ("model", "solver", "pipeline", "highs", "search", "benders"),
    "report.*": ("model", "solver", "pipeline", "highs", "search", "benders"),
    "outcomes": ("model", "solver", "pipeline", "plan"),
    "partners": ("model", "solver", "pipeline", "plan"),
}


def _module_name(package: Path, path: Path) -> str:
    parts = path.relative_to(package).with_suffix("").parts
    return "__init__" if parts == ("__init__",) else ".".join(p for p in parts if p != "__init__")


def _optimiser_imports(path: Path) -> set[str]:
    """Every optimiser module `path` imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name == "optimiser" or name.startswith("optimiser."):
                out.add(name.removeprefix("optimiser").lstrip(".") or "__init__")
    return out


def _layer_of(name: str) -> int | None:
    for rank, layer in enumerate(LAYERS):
        for entry in layer:
            if name == entry or (entry.endswith(".*") and name.startswith(entry[:-1])):
                return rank
    return None


def _rule_for(name: str, rules: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    for key, banned in rules.items():
        if name == key or (key.endswith(".*") and name.startswith(key[:-1])):
            return banned
    return ()


def layering_problems(package: Path) -> list[str]:
    """Every import inside `package` (an optimiser/ tree) that runs against `LAYERS`/`FORBIDDEN`."""
    modules = {_module_name(package, p): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    problems = [f"optimiser.{m} is in no layer: add it to LAYERS" for m in modules if _layer_of(m) is None]
    for name, path in modules.items():
        targets = {t for t in _optimiser_imports(path) if t in modules and t != name}
        graph[name] = targets
        own = _layer_of(name)
        for target in sorted(targets):
            rank = _layer_of(target)
            if own is not None and rank is not None and rank > own:
                problems.append(f"optimiser.{name} imports optimiser.{target}, a higher layer")
            if any(target == b or target.startswith(b + ".") for b in _rule_for(name, FORBIDDEN)):
                problems.append(f"optimiser.{name} imports optimiser.{target}, which it must not")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected set of modules (depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_layers_inside_optimiser_hold():
    assert layering_problems(REPO / "optimiser") == []


@pytest.mark.parametrize(
    ("module", "line", "problem"),
    [
        (
            "costs.py",
            "from optimiser.pipeline import optimise",
            "optimiser.costs imports optimiser.pipeline, a higher layer",
        ),
        (
            "report/kpis.py",
            "from optimiser.solver import SolveInfo",
            "optimiser.report.kpis imports optimiser.solver, a higher layer",
        ),
        (
            "report/files.py",
            "import optimiser.solver",
            "optimiser.report.files imports optimiser.solver, which it must not",
        ),
        (
            "outcomes.py",
            "from optimiser.model import build_model",
            "optimiser.outcomes imports optimiser.model, a higher layer",
        ),
        (
            "sweep/grid.py",
            "from optimiser.sweep.runner import run_sweep",
            "import cycle: sweep.grid -> sweep.runner -> sweep.grid",
        ),
        ("wildcard.py", "", "optimiser.wildcard is in no layer: add it to LAYERS"),
    ],
)
def test_an_arrow_the_wrong_way_is_caught(tmp_path, module, line, problem):
    tree = tmp_path / "optimiser"
    shutil.copytree(REPO / "optimiser", tree, ignore=shutil.ignore_patterns("__pycache__"))
    target = tree / module
    target.write_text(
        (target.read_text() if target.exists() else "") + f"\n\ndef _bad():\n    {line or 'pass'}\n"
    )
    assert problem in layering_problems(tree)
