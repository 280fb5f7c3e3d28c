"""Who owns a staging folder or a claim of the artifact store, whether that owner is still alive, and the
claim's lock itself.

A claim is a lock file held with ``flock(2)``: the kernel releases it when its process dies, however it
dies, so a dead owner's claim is free without anyone breaking it (:func:`try_lock`, :func:`unlock`). The
file also holds the owner as JSON, for messages only.

An owner is a process: ``(host, pid, start)``, where ``start`` is the process start time (clock ticks
since boot, from ``/proc/<pid>/stat``; 0 where ``/proc`` is missing), so a reused pid is not mistaken for
the original process. On the same host an owner is alive while its pid runs with the same start time. On
another host we cannot look: there the owner's heartbeat decides. Every live process touches (``utime``)
the staging folders it owns every :data:`HEARTBEAT_SECONDS`; one untouched for :data:`STALE_SECONDS`
belongs to a dead (or unreachable) owner. (Claims need no heartbeat: their lock is the kernel's.)
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

STAGING_PREFIX = ".staging-"  # + <key>.<pid>.<start>.<host>.<random>
LOCK_PREFIX = ".lock-"  # + <key>, holding the owner as JSON
HEARTBEAT_SECONDS = 20.0
STALE_SECONDS = 600.0  # an owner on another host silent for this long is taken as dead


def process_start(pid: int) -> int:
    """Start time of process ``pid`` in clock ticks since boot (0 when unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # the command name (field 2) is in parentheses and may hold spaces: split after the last ")"
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else 0


def host_tag() -> str:
    """A short, file-name-safe tag of this host."""
    return hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: int

    @classmethod
    def me(cls) -> Owner:
        return cls(host_tag(), os.getpid(), process_start(os.getpid()))

    @property
    def token(self) -> str:
        """``<pid>.<start>.<host>``: part of staging folder names."""
        return f"{self.pid}.{self.start}.{self.host}"

    @classmethod
    def from_token(cls, token: str) -> Owner | None:
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        return cls(parts[2], int(parts[0]), int(parts[1]))

    def to_dict(self) -> dict[str, object]:
        return {"host": self.host, "hostname": socket.gethostname(), "pid": self.pid, "start": self.start}

    @classmethod
    def from_dict(cls, payload: object) -> Owner | None:
        if not isinstance(payload, dict):
            return None
        try:
            return cls(str(payload["host"]), int(payload["pid"]), int(payload["start"]))
        except (KeyError, TypeError, ValueError):
            return None

    def alive_here(self) -> bool | None:
        """True/False on this owner's own host; None on another host (ask the heartbeat)."""
        if self.host != host_tag():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, another user's
        return self.start == 0 or process_start(self.pid) in (0, self.start)


def staging_owner(name: str) -> Owner | None:
    """The owner encoded in a staging folder's name (None for a name of another format)."""
    parts = name.removeprefix(STAGING_PREFIX).split(".")
    return Owner.from_token(".".join(parts[1:4])) if len(parts) == 5 else None


def lock_owner(path: Path) -> Owner | None:
    """The owner written in a claim's lock file (None while unwritten, or unreadable)."""
    try:
        return Owner.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def owner_is_dead(owner: Owner | None, path: Path, stale_seconds: float = STALE_SECONDS) -> bool:
    """Whether ``path`` (a staging folder or lock file of ``owner``) is debris of a dead owner.

    An unknown owner (unparseable name or lock) is judged by the heartbeat alone, like a remote one.
    """
    alive = owner.alive_here() if owner is not None else None
    if alive is not None:
        return not alive
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False  # already gone: nothing to remove
    return age > stale_seconds


class Heartbeat:
    """A daemon thread touching the paths this process owns, so other hosts see they are alive."""

    def __init__(self, interval: float = HEARTBEAT_SECONDS) -> None:
        self.interval = interval
        self._paths: set[Path] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, path: Path) -> None:
        with self._lock:
            self._paths.add(path)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="jtask2vec-heartbeat", daemon=True)
                self._thread.start()

    def discard(self, path: Path) -> None:
        with self._lock:
            self._paths.discard(path)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                paths = list(self._paths)
            for path in paths:
                with suppress(OSError):  # published or removed meanwhile
                    os.utime(path)


HEARTBEAT = Heartbeat()


# ---- the claim's lock ------------------------------------------------------------------------------------
BUSY: Literal["busy"] = "busy"  # another process holds the lock


class LockUnsupported(OSError):
    """The file system refuses ``flock(2)`` (e.g. NFS mounted without lock support)."""


def try_lock(path: Path) -> int | Literal["busy"]:
    """Take the exclusive lock on the file at ``path`` (created if missing) without waiting.

    Returns the open descriptor holding it, or :data:`BUSY` while another process (or another descriptor
    of this one) holds it. The lock is the kernel's (``flock``): it goes with the process, however the
    process ends. Once locked, the file must still be the one at ``path``: its previous holder unlinks it
    before letting go (:func:`unlock`), and whoever locked the unlinked file tries again with a new one.
    So at most one descriptor holds a lock on the file at ``path`` at any time.
    """
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return BUSY
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise LockUnsupported(exc.errno, f"flock not supported: {exc.strerror}", str(path)) from None
            raise
        try:
            here = os.stat(path)
        except FileNotFoundError:
            here = None
        mine = os.fstat(fd)
        if here is not None and (here.st_ino, here.st_dev) == (mine.st_ino, mine.st_dev):
            return fd
        os.close(fd)  # we locked a file its holder had just unlinked: take the new one


def unlock(path: Path, fd: int) -> None:
    """Remove the lock file ``path`` and let go of its lock (``fd`` from :func:`try_lock`), in that order:
    a process that opened the old file meanwhile finds it unlinked and makes a new one."""
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def write_owner(fd: int, record: dict[str, object]) -> Owner | None:
    """Replace the content of the held lock file ``fd`` by ``record`` (JSON); returns the owner it named
    before (a dead process that held it last, or None for a new file)."""
    try:
        before = Owner.from_dict(json.loads(os.pread(fd, 1 << 16, 0).decode("utf-8")))
    except (OSError, ValueError):
        before = None
    data = json.dumps(record).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)
    return before
