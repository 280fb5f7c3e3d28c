"""The package's layers, checked by walking every module's imports.

A module may import its own package and the packages its layer is allowed to use (the table below, from
docs/architecture.md); anything else (``fisher`` importing ``store``, anything importing ``cli``) fails here
with the module, the line and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "jtask2vec"

FOUNDATION = {"errors", "config", "tasks", "store", "results"}
COMPUTATION = {"model", "fisher", "selection"}
# unit (a top-level module or package of jtask2vec) -> the units it may import besides itself
ALLOWED: dict[str, set[str]] = {
    # foundation: data, configuration, the store's mechanics, the result tables
    "errors": set(),
    "config": {"errors"},
    "tasks": {"errors", "config"},
    "store": {"errors", "config"},
    "results": {"errors", "config", "tasks", "store"},  # saved with the store's atomic writes
    "suite_check": {"errors", "config", "tasks"},
    # computation: explicit inputs, values out; never the store, the keys or the jobs
    "model": {"errors", "config", "tasks"},
    "fisher": {"errors", "config", "tasks", "model"},
    "selection": {"errors", "config", "tasks", "model", "fisher", "results"},  # results: column names
    "evaluation": (FOUNDATION - {"store"}) | COMPUTATION,
    # the one persistence boundary: jobs, stages, scheduler, executors
    "jobs": FOUNDATION | COMPUTATION | {"evaluation"},
    # orchestration
    "pipeline": FOUNDATION | COMPUTATION | {"evaluation", "jobs", "report", "suite_check"},
    "zoo": FOUNDATION | COMPUTATION | {"evaluation", "jobs", "pipeline"},
    # interface; the report writes its files with the store's atomic writes, never reads an artifact
    "report": FOUNDATION | COMPUTATION | {"evaluation"},
    "cli": FOUNDATION | COMPUTATION | {"evaluation", "jobs", "pipeline", "zoo", "report", "suite_check"},
    "__init__": {"zoo", "tasks"},
    "__main__": {"cli"},
}


def unit_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def imported_units(path: Path) -> list[tuple[int, str, str]]:
    """(line, unit, dotted name) of every ``jtask2vec`` import in the module at ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "jtask2vec":
                names = [f"jtask2vec.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "jtask2vec" and len(parts) > 1:
                found.append((node.lineno, parts[1], name))
    return found


def violations() -> list[str]:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        unit = unit_of(path)
        allowed = ALLOWED.get(unit)
        assert allowed is not None, f"{path.relative_to(SRC)}: unit {unit!r} is not in the layering table"
        for line, other, name in imported_units(path):
            if other != unit and other not in allowed and other != "__version__":
                bad.append(f"{path.relative_to(SRC)}:{line}: {unit} may not import {name}")
    return bad


def test_every_import_respects_the_layers():
    assert violations() == []


def test_the_check_sees_a_wrong_import(tmp_path, monkeypatch):
    """A planted ``fisher -> store`` import is reported: the check can fail."""
    planted = tmp_path / "jtask2vec"
    (planted / "fisher").mkdir(parents=True)
    (planted / "fisher" / "bad.py").write_text("from jtask2vec.store.artifacts import ArtifactStore\n")
    (planted / "cli").mkdir()
    (planted / "cli" / "ok.py").write_text("import jtask2vec.store.artifacts\n")
    monkeypatch.setattr(__import__(__name__), "SRC", planted)
    assert violations() == ["fisher/bad.py:1: fisher may not import jtask2vec.store.artifacts"]


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_says_its_concern(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{path.relative_to(SRC)} has no module docstring"
