"""Content-addressed artifact store with atomic writes.

Every artifact (a fine-tuned checkpoint, a results JSON, a task embedding) lives in its own directory
``<root>/<kind>/<key>/``, where ``key`` is a hash of everything that produced it: the config, the data
hash, the probe, and the stage's algorithm version (see :mod:`jtask2vec.keys`). An artifact directory
appears by an atomic ``rename`` of a finished staging directory, so it either exists whole or not at all:
an interrupted run leaves only staging debris (cleaned on the next write) and a re-run recomputes
exactly the missing artifacts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def canonical_json(payload: Any) -> str:
    """Deterministic JSON for hashing (sorted keys, no whitespace, pydantic models dumped)."""
    return json.dumps(_plain(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def content_key(payload: Any, length: int = 16) -> str:
    """Hash of ``payload``. Artifact keys are built by :mod:`jtask2vec.keys` (stage versions included)."""
    text = canonical_json(payload)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; published files get the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(_plain(payload), indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


class ArtifactStore:
    """Directories of finished artifacts under ``root``, addressed by ``(kind, key)``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def exists(self, kind: str, key: str) -> bool:
        return self.path(kind, key).is_dir()

    def keys(self, kind: str) -> list[str]:
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))

    @contextmanager
    def staging(self, kind: str, key: str) -> Iterator[Path]:
        """Yield an empty directory to fill; on success it becomes ``path(kind, key)`` atomically.

        On an exception the staging directory is removed and nothing is published.
        """
        final = self.path(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        stage = final.parent / f".staging-{key}-{uuid.uuid4().hex[:8]}"
        stage.mkdir()
        try:
            yield stage
            if final.exists():  # another process finished the same artifact first: keep theirs
                shutil.rmtree(stage)
            else:
                os.replace(stage, final)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise

    def write_json(self, kind: str, key: str, payload: Any, filename: str = "result.json") -> Path:
        """Publish a one-file artifact."""
        with self.staging(kind, key) as stage:
            atomic_write_json(stage / filename, payload)
        return self.path(kind, key) / filename

    def read_json(self, kind: str, key: str, filename: str = "result.json") -> Any:
        return read_json(self.path(kind, key) / filename)

    def clean_staging(self) -> int:
        """Remove debris of interrupted writes; returns how many directories were removed."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for kind_dir in self.root.iterdir():
            if not kind_dir.is_dir():
                continue
            for stage in kind_dir.glob(".staging-*"):
                shutil.rmtree(stage, ignore_errors=True)
                removed += 1
        return removed
