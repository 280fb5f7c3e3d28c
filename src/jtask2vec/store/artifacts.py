"""Content-addressed artifact store: atomic, checksummed, crash-safe, shared by concurrent processes.

Every artifact (a fine-tuned checkpoint, a results JSON, a task embedding) lives in its own directory
``<root>/<kind>/<key>/``, where ``key`` is a hash of everything that produced it: the config, the data
hash, the probe, and the stage's algorithm version (see :mod:`jtask2vec.jobs.keys`). An artifact is written
into a staging folder (``.staging-<key>.<pid>.<start>.<host>.<random>``), every file is fsynced, a
``MANIFEST.json`` (sizes, SHA-256, inputs, producer; see :mod:`jtask2vec.store.manifest`) is written last,
and the folder is renamed into place (then the parent folder fsynced): it exists whole or not at all, even
after a power loss.

Reading goes through :meth:`ArtifactStore.open`, which checks every file's size on each access and its
SHA-256 once per process; a corrupt artifact is moved to ``<root>/.quarantine/`` with one warning and
treated as absent, so the caller recomputes it. :meth:`ArtifactStore.get_or_create` is the one way to
compute an artifact: check, claim (a lock file under a kernel lock, so two processes never compute it
twice), re-check, build, publish. Every publish, claim and quarantine is appended to ``<root>/events.log``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jtask2vec.errors import StoreError
from jtask2vec.store.faults import fault_point
from jtask2vec.store.manifest import MANIFEST_FILE, check_artifact, fsync_path, log_event, write_manifest
from jtask2vec.store.owners import (
    BUSY,
    HEARTBEAT,
    LOCK_PREFIX,
    STAGING_PREFIX,
    STALE_SECONDS,
    LockUnsupported,
    Owner,
    lock_owner,
    owner_is_dead,
    staging_owner,
    try_lock,
    unlock,
    write_owner,
)


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
    """Hash of ``payload``. Artifact keys are built by :mod:`jtask2vec.jobs.keys` (stage versions
    included)."""
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
        fsync_path(path.parent)  # make the rename itself durable
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(_plain(payload), indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


logger = logging.getLogger("jtask2vec.store.artifacts")
QUARANTINE_DIR = ".quarantine"
# (root, kind, key) -> (inode, mtime_ns) of the manifest whose SHA-256 sums this process has checked
_VERIFIED: dict[tuple[str, str, str], tuple[int, int]] = {}
_RECORDERS: list[tuple[str, set[tuple[str, str]]]] = []  # (root, artifacts used) of open recording()s


class ArtifactStore:
    """Directories of finished artifacts under ``root``, addressed by ``(kind, key)``.

    ``stale_seconds``: how long a staging folder of a process on another host may go without a heartbeat
    before it is taken as debris (owners on this host are checked directly; claims are kernel locks).
    """

    def __init__(self, root: str | Path, *, stale_seconds: float = STALE_SECONDS) -> None:
        self.root = Path(root)
        self.stale_seconds = stale_seconds

    def path(self, kind: str, key: str) -> Path:
        """Where artifact ``(kind, key)`` lives, unchecked: read through :meth:`open` instead."""
        return self.root / kind / key

    # ---- verified access ---------------------------------------------------------------------------
    def open(self, kind: str, key: str) -> Path | None:
        """The folder of artifact ``(kind, key)`` after checking it, or None when absent or corrupt.

        Sizes are checked on every call, SHA-256 sums once per process (again if the manifest changes).
        A corrupt artifact is quarantined (:meth:`quarantine`) and reported absent.
        """
        folder = self.path(kind, key)
        if not folder.exists():
            return None
        if not folder.is_dir():
            self.quarantine(kind, key, "not a folder")
            return None
        cache_key = (str(self.root.absolute()), kind, key)
        stamp = _stamp(folder / MANIFEST_FILE)
        deep = stamp is None or _VERIFIED.get(cache_key) != stamp
        problem = check_artifact(folder, kind, key, deep=deep)
        if problem is not None:
            self.quarantine(kind, key, problem)
            return None
        if deep and stamp is not None:
            _VERIFIED[cache_key] = stamp
        self._record(kind, key)
        return folder

    @contextmanager
    def recording(self) -> Iterator[set[tuple[str, str]]]:
        """Collect ``(kind, key)`` of every artifact of this root opened or published in this process
        (through any ``ArtifactStore`` object) while the block runs: what a run depends on."""
        used: set[tuple[str, str]] = set()
        entry = (str(self.root.absolute()), used)
        _RECORDERS.append(entry)
        try:
            yield used
        finally:
            _RECORDERS.remove(entry)

    def _record(self, kind: str, key: str) -> None:
        root = str(self.root.absolute())
        for recorder_root, used in _RECORDERS:
            if recorder_root == root:
                used.add((kind, key))

    def exists(self, kind: str, key: str) -> bool:
        """Whether a sound artifact ``(kind, key)`` is published (a corrupt one is quarantined)."""
        return self.open(kind, key) is not None

    def keys(self, kind: str) -> list[str]:
        """Keys of the published folders of ``kind`` (unchecked; :meth:`open` checks one)."""
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))

    def kinds(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def quarantine(self, kind: str, key: str, reason: str) -> Path | None:
        """Move artifact ``(kind, key)`` to ``<root>/.quarantine/<kind>-<key>-<time>/`` with one warning."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        target = self.root / QUARANTINE_DIR / f"{kind}-{key}-{stamp}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.path(kind, key), target)
        except FileNotFoundError:
            return None  # another process moved it first
        _VERIFIED.pop((str(self.root.absolute()), kind, key), None)
        log_event(self.root, "quarantine", kind, key, reason)
        logger.warning(
            "store: corrupt artifact %s/%s (%s) moved to %s; it will be recomputed", kind, key, reason, target
        )
        return target

    # ---- writing -----------------------------------------------------------------------------------
    @contextmanager
    def staging(self, kind: str, key: str, *, inputs: Any = None) -> Iterator[Path]:
        """Yield an empty directory to fill; on success it becomes ``path(kind, key)`` atomically.

        ``inputs`` (plain data or pydantic models: what made the artifact) go into its manifest. On an
        exception the staging directory is removed and nothing is published. If the same artifact was
        published meanwhile by another process, theirs is kept and this one dropped.
        """
        final = self.path(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        stage = final.parent / f"{STAGING_PREFIX}{key}.{Owner.me().token}.{uuid.uuid4().hex[:8]}"
        stage.mkdir()
        HEARTBEAT.add(stage)
        try:
            yield stage
            fault_point("staged")
            write_manifest(stage, kind, key, _plain(inputs))
            fault_point("publish")
            self._publish(stage, kind, key)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        finally:
            HEARTBEAT.discard(stage)

    def _publish(self, stage: Path, kind: str, key: str) -> None:
        final = self.path(kind, key)
        for _ in range(3):
            try:
                os.rename(stage, final)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                if self.open(kind, key) is not None:  # another process won the race: keep theirs
                    shutil.rmtree(stage, ignore_errors=True)
                    log_event(self.root, "publish-lost-race", kind, key)
                    return
                continue  # theirs was corrupt and is quarantined now: try again
            fsync_path(final.parent)
            stamp = _stamp(final / MANIFEST_FILE)
            if stamp is not None:  # the sums were computed from these very files
                _VERIFIED[(str(self.root.absolute()), kind, key)] = stamp
            self._record(kind, key)
            log_event(self.root, "publish", kind, key)
            fault_point("published")
            return
        raise StoreError(f"could not publish {kind}/{key} in {self.root}: the folder keeps reappearing")

    def write_json(
        self, kind: str, key: str, payload: Any, filename: str = "result.json", *, inputs: Any = None
    ) -> Path:
        """Publish a one-file artifact."""
        with self.staging(kind, key, inputs=inputs) as stage:
            atomic_write_json(stage / filename, payload)
        return self.path(kind, key) / filename

    def read_json(self, kind: str, key: str, filename: str = "result.json") -> Any:
        """``filename`` of the checked artifact ``(kind, key)``; StoreError when absent or corrupt."""
        folder = self.open(kind, key)
        if folder is None:
            raise StoreError(f"no artifact {kind}/{key} in the store at {self.root}")
        return read_json(folder / filename)

    # ---- concurrency -------------------------------------------------------------------------------
    @contextmanager
    def claim(
        self,
        kind: str,
        key: str,
        *,
        timeout: float | None = None,
        poll: float = 0.5,
        on_wait: Callable[[Owner | None], None] | None = None,
    ) -> Iterator[None]:
        """Hold the claim on computing ``(kind, key)``: the ``flock`` of ``<root>/<kind>/.lock-<key>``.

        The lock is the kernel's: it is released when its process ends, however it ends (killed, out of
        memory), so a dead owner's claim is simply free (the next process takes it and logs
        ``break-stale-claim``). The file holds the owner (pid, host, start time) for messages; it is
        removed on release. While another process holds it, wait (polling every ``poll`` seconds, calling
        ``on_wait(owner)``; StoreError after ``timeout`` seconds, never when None). Re-check the artifact
        once the claim is held: the previous owner may have made it.
        """
        lock = self.root / kind / f"{LOCK_PREFIX}{key}"
        lock.parent.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        waited = False
        while True:
            try:
                fd = try_lock(lock)
            except LockUnsupported as exc:
                raise StoreError(
                    f"cannot lock {lock}: {exc.strerror}; the store needs a file system with flock(2) "
                    "locks (see docs/store.md)"
                ) from None
            if fd != BUSY:
                break
            owner = lock_owner(lock)
            if not waited:
                waited = True
                log_event(self.root, "wait", kind, key, f"claimed by {owner}")
                logger.info("store: waiting for %s/%s, claimed by %s", kind, key, owner)
            if deadline is not None and time.monotonic() > deadline:
                raise StoreError(
                    f"gave up after {timeout:g} s waiting for {kind}/{key} in {self.root}, "
                    f"claimed by {owner} (lock file {lock})"
                )
            if on_wait is not None:
                on_wait(owner)
            time.sleep(poll)
        try:
            before = write_owner(fd, {**Owner.me().to_dict(), "claimed": time.time()})
            if before is not None:  # the file of a process that died holding the claim
                log_event(self.root, "break-stale-claim", kind, key, f"owner {before}")
            log_event(self.root, "claim", kind, key)
            fault_point("claimed")
            yield
        finally:
            unlock(lock, fd)
            log_event(self.root, "release", kind, key)

    def get_or_create(
        self, kind: str, key: str, build: Callable[[Path], object], *, inputs: Any = None
    ) -> Path:
        """The checked folder of ``(kind, key)``, built first if needed: check, claim, re-check,
        ``build(staging_folder)``, publish. A second process asking meanwhile waits and reuses it."""
        found = self.open(kind, key)
        if found is not None:
            return found
        with self.claim(kind, key):
            found = self.open(kind, key)
            if found is None:
                with self.staging(kind, key, inputs=inputs) as stage:
                    build(stage)
                found = self.open(kind, key)
        if found is None:
            raise StoreError(f"{kind}/{key} vanished from {self.root} right after it was published")
        return found

    def clean_staging(self) -> int:
        """Remove debris of dead processes: their staging folders and claims. Returns how many.

        A staging folder of a live process (on this host: its pid runs with the same start time; on
        another host: touched within ``stale_seconds``) is left alone, and so is a claim whose lock is held.
        """
        removed = 0
        for kind in self.kinds():
            for path in sorted((self.root / kind).glob(".*")):
                if path.name.startswith(LOCK_PREFIX):
                    if not _remove_free_lock(path):
                        continue
                elif path.name.startswith(STAGING_PREFIX):
                    if not owner_is_dead(staging_owner(path.name), path, self.stale_seconds):
                        continue
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    continue
                log_event(self.root, "remove-debris", kind, path.name)
                removed += 1
        return removed


def _remove_free_lock(path: Path) -> bool:
    """Remove the lock file ``path`` if no process holds its lock (taking it to do so)."""
    try:
        fd = try_lock(path)
    except (LockUnsupported, FileNotFoundError):
        return False
    if fd == BUSY:
        return False
    unlock(path, fd)
    return True


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns
