"""Shared fixtures. Tests never reach a hub and never write outside temporary folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # one thread per xdist worker: no oversubscription on 2 cores

REPO_ROOT = Path(__file__).resolve().parents[1]

# tests/ mirrors the package (tests/<package>/test_<module>.py); a few test modules share their builders by
# name across folders (``from test_pipeline import TINY_SUITE``), so every test folder is importable
for _folder in sorted(Path(__file__).parent.iterdir()):
    if (
        _folder.is_dir()
        and _folder.name not in {"fixtures_tasks", "__pycache__"}
        and any(_folder.glob("test_*.py"))
    ):
        sys.path.insert(0, str(_folder))


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Exported probes go to a per-session temporary cache, not the user's home."""
    if "JTASK2VEC_CACHE" not in os.environ:
        os.environ["JTASK2VEC_CACHE"] = str(tmp_path_factory.mktemp("jtask2vec-cache"))


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real corpora (../shared/data beside the repo); tests that need them skip when absent."""
    candidate = Path(os.environ.get("JTASK2VEC_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not candidate.is_dir():
        pytest.skip(f"real data not found at {candidate}")
    return candidate


@pytest.fixture(scope="session")
def tiny_probe():
    from jtask2vec.model.probes import load_probe

    return load_probe("tiny-random-bert")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/jobs/golden/*.json from the current code (after bumping keys.STAGE_VERSIONS)",
    )
