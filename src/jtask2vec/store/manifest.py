"""Manifests of store artifacts (what made them, each file's size and SHA-256), fsync, and the event log.

``MANIFEST.json``, written last into an artifact's staging folder::

    {"format": 1, "kind": "finetune", "key": "3f...", "inputs": {...} | null,
     "files": {"model.safetensors": {"size": 123, "sha256": "ab..."}, ...},
     "created": "2025-01-01T12:00:00+00:00", "jtask2vec": "0.1.0",
     "producer": {"host": "...", "hostname": "...", "pid": 123, "start": 456}}

:func:`check_artifact` compares a published folder with its manifest: sizes always, SHA-256 when asked.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jtask2vec import __version__
from jtask2vec.store.owners import Owner

MANIFEST_FILE = "MANIFEST.json"
MANIFEST_FORMAT = 1
EVENTS_FILE = "events.log"
_CHUNK = 1 << 22


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's content (a folder: its entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_files(folder: Path) -> list[Path]:
    """Every regular file below ``folder`` except the manifest, sorted by relative path."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST_FILE
    )


def write_manifest(stage: Path, kind: str, key: str, inputs: Any = None) -> dict[str, Any]:
    """Fsync every file of ``stage``, then write and fsync its manifest and its folders; returns it.

    ``inputs`` must be plain JSON data (what made the artifact, as the caller describes it).
    """
    files: dict[str, dict[str, Any]] = {}
    for path in artifact_files(stage):
        fsync_path(path)
        files[path.relative_to(stage).as_posix()] = {"size": path.stat().st_size, "sha256": sha256_of(path)}
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "key": key,
        "inputs": inputs,
        "files": files,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "jtask2vec": __version__,
        "producer": Owner.me().to_dict(),
    }
    target = stage / MANIFEST_FILE
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    for folder in sorted({p.parent for p in artifact_files(stage)} | {stage}, reverse=True):
        fsync_path(folder)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder``; raises ``ValueError`` naming what is wrong with it."""
    path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no {MANIFEST_FILE}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable {MANIFEST_FILE} ({exc})") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("size"), int) and isinstance(v.get("sha256"), str)
        for v in files.values()
    ):
        raise ValueError(f"malformed {MANIFEST_FILE} (no valid 'files' table)")
    return manifest


def check_artifact(folder: Path, kind: str, key: str, *, deep: bool) -> str | None:
    """What is wrong with the published artifact ``folder`` (None when it is sound).

    Checks the manifest, its kind and key, every listed file's presence and size, and with ``deep``
    every file's SHA-256.
    """
    try:
        manifest = read_manifest(folder)
    except ValueError as exc:
        return str(exc)
    if manifest.get("kind") != kind or manifest.get("key") != key:
        return f"{MANIFEST_FILE} names {manifest.get('kind')}/{manifest.get('key')}"
    for name, facts in manifest["files"].items():
        path = folder / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return f"missing file {name}"
        if size != facts["size"]:
            return f"{name} has {size} bytes, the manifest says {facts['size']}"
        if deep and sha256_of(path) != facts["sha256"]:
            return f"{name} does not match its SHA-256"
    return None


def log_event(root: Path, event: str, kind: str, key: str, detail: str = "") -> None:
    """Append one line to ``<root>/events.log`` (``O_APPEND``: lines of concurrent processes never mix)."""
    owner = Owner.me()
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    line = f"{stamp}\t{owner.host}\t{owner.pid}\t{event}\t{kind}\t{key}\t{detail}".rstrip("\t") + "\n"
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / EVENTS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_events(root: Path) -> list[dict[str, str]]:
    """The event log as dicts (``time, host, pid, event, kind, key, detail``)."""
    path = root / EVENTS_FILE
    if not path.is_file():
        return []
    names = ("time", "host", "pid", "event", "kind", "key", "detail")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        rows.append(dict(zip(names, parts + [""] * (len(names) - len(parts)), strict=True)))
    return rows
