"""The computations never reach the store: training, the embedding and the Fisher import neither the store,
the keys nor the stages (issue 17: one persistence boundary, the stages)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jtask2vec

PACKAGE = Path(jtask2vec.__file__).parent
PURE = [
    "training.py",
    "embedding.py",
    *(f"fisher/{p.name}" for p in sorted((PACKAGE / "fisher").glob("*.py"))),
]
FORBIDDEN = ("jtask2vec.store", "jtask2vec.keys", "jtask2vec.stages", "jtask2vec.jobs", "jtask2vec.pipeline")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (top level or inside functions), as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)  # `from jtask2vec import keys`
    return names


@pytest.mark.parametrize("module", PURE)
def test_a_computation_imports_no_store_key_or_stage(module: str) -> None:
    bad = sorted(n for n in imported_modules(PACKAGE / module) if n.startswith(FORBIDDEN))
    assert not bad, f"{module} imports {bad}: only the stages (jtask2vec.stages) may touch the store"


def test_the_check_sees_a_planted_import(tmp_path: Path) -> None:
    planted = tmp_path / "m.py"
    planted.write_text(
        "def f():\n    from jtask2vec import keys\n    from jtask2vec.store import read_json\n"
    )
    assert {"jtask2vec.keys", "jtask2vec.store"} <= imported_modules(planted)
