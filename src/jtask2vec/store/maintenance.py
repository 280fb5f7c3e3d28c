"""Store upkeep behind ``jtask2vec store verify`` and ``jtask2vec store gc``.

What a suite references: every run writes ``<runs_dir>/<suite>/artifacts.json``, the ``(kind, key)`` of
each artifact the run opened or published (recorded by :meth:`ArtifactStore.recording`, so it is exact
whatever the key functions are). ``gc`` keeps what the given suites' latest runs list, plus the
checkpoint keys of their ``finetune.csv`` / ``transfer.csv``, and removes the rest; a suite must have
run once (computing keys without running would need the probe, the data and every stage's key inputs).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jtask2vec.errors import ConfigError
from jtask2vec.store.artifacts import ArtifactStore, atomic_write_json, read_json
from jtask2vec.store.manifest import check_artifact, log_event

RUN_ARTIFACTS_FILE = "artifacts.json"
CHECKPOINT_COLUMNS = ("checkpoint_key", "source_checkpoint_key")


def write_run_artifacts(run_dir: Path, used: set[tuple[str, str]]) -> Path:
    """Record in ``run_dir`` the store artifacts a run depends on."""
    path = Path(run_dir) / RUN_ARTIFACTS_FILE
    atomic_write_json(path, {"artifacts": [{"kind": k, "key": v} for k, v in sorted(used)]})
    return path


def run_artifacts(run_dir: Path) -> set[tuple[str, str]]:
    """``(kind, key)`` referenced by the run in ``run_dir``; ConfigError when it never finished."""
    path = Path(run_dir) / RUN_ARTIFACTS_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path}: no record of a finished run; run the suite first (gc keeps what runs used)"
        )
    try:
        refs = {(str(a["kind"]), str(a["key"])) for a in read_json(path)["artifacts"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: unreadable artifact list ({exc})") from None
    for table in ("finetune.csv", "transfer.csv"):
        if (Path(run_dir) / table).is_file():
            frame = pd.read_csv(Path(run_dir) / table)
            for column in CHECKPOINT_COLUMNS:
                if column in frame:
                    refs |= {("finetune", str(k)) for k in frame[column].dropna()}
    return refs


@dataclass(frozen=True)
class Problem:
    kind: str
    key: str
    problem: str
    quarantined: Path | None = None


def verify_store(store: ArtifactStore, *, quarantine: bool = False) -> tuple[int, list[Problem]]:
    """Check every artifact fully (manifest, sizes, SHA-256); returns (how many checked, the corrupt ones).

    With ``quarantine`` the corrupt ones are moved to ``<root>/.quarantine/``.
    """
    checked = 0
    problems: list[Problem] = []
    for kind in store.kinds():
        for key in store.keys(kind):
            checked += 1
            problem = check_artifact(store.path(kind, key), kind, key, deep=True)
            if problem is not None:
                moved = store.quarantine(kind, key, problem) if quarantine else None
                problems.append(Problem(kind, key, problem, moved))
    return checked, problems


@dataclass(frozen=True)
class Garbage:
    kind: str
    key: str
    size: int  # bytes


def plan_gc(
    store: ArtifactStore, referenced: set[tuple[str, str]], *, min_age_seconds: float = 3600.0
) -> list[Garbage]:
    """Artifacts no reference names, left untouched for ``min_age_seconds`` (younger ones may belong to
    a run in progress of a suite not given)."""
    now = time.time()
    garbage = []
    for kind in store.kinds():
        for key in store.keys(kind):
            folder = store.path(kind, key)
            if (kind, key) in referenced or now - folder.stat().st_mtime < min_age_seconds:
                continue
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            garbage.append(Garbage(kind, key, size))
    return garbage


def collect_garbage(store: ArtifactStore, garbage: list[Garbage]) -> int:
    """Remove the planned artifacts (each vanishes at once: renamed aside, then deleted); bytes freed."""
    freed = 0
    for item in garbage:
        aside = store.root / item.kind / f".trash-{item.key}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(store.path(item.kind, item.key), aside)
        except FileNotFoundError:
            continue
        shutil.rmtree(aside, ignore_errors=True)
        log_event(store.root, "gc-remove", item.kind, item.key)
        freed += item.size
    return freed
