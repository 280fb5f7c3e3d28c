"""Unexpected exceptions in the CLI: one line on stderr, the full traceback in a log file.

The log goes to ``<runs_dir>/<suite>/logs`` (``--runs-dir`` records the runs folder as it is parsed,
``suite_from_options`` the suite's name once it has loaded), ``<runs_dir>/logs`` before the suite has
loaded, and the system's temporary folder for commands without a runs folder. ``--debug`` shows the
traceback inline instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path

DEBUG_KEY = "jtask2vec.debug"  # in the click context's meta: --debug was given

_runs_dir: ContextVar[Path | None] = ContextVar("jtask2vec_runs_dir", default=None)
_suite_name: ContextVar[str | None] = ContextVar("jtask2vec_suite_name", default=None)


def forget_run_folder() -> None:
    """At the start of a command: nothing known yet about where its logs go."""
    _runs_dir.set(None)
    _suite_name.set(None)


def remember_runs_dir(value: Path | None) -> Path | None:
    """The ``--runs-dir`` option's callback (returns the value unchanged)."""
    _runs_dir.set(None if value is None else Path(value))
    return value


def current_runs_dir() -> Path | None:
    """The command's ``--runs-dir``, once parsed (``None`` for commands without one)."""
    return _runs_dir.get()


def remember_suite(name: str) -> None:
    _suite_name.set(name)


def log_folder() -> Path | None:
    """``<runs_dir>/<suite>/logs``, ``<runs_dir>/logs`` before the suite has loaded, else ``None``."""
    runs_dir, suite = _runs_dir.get(), _suite_name.get()
    if runs_dir is None:
        return None
    return runs_dir / suite / "logs" if suite else runs_dir / "logs"


def summary_line(exc: BaseException) -> str:
    """``TypeName: first line of the message`` (the type alone when the message is empty)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def write_crash_log(exc: BaseException, folder: Path | None) -> Path:
    """Write the command line and the full traceback of ``exc`` to ``<folder>/error-<UTC time>.log``.

    Falls back to the temporary folder when ``folder`` is unknown or cannot be written.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    text = (
        f"command: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}\n"
        f"time (UTC): {stamp}\npid: {os.getpid()}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    candidates = [folder] if folder is not None else []
    candidates.append(Path(tempfile.gettempdir()) / "jtask2vec-logs")
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            path = candidate / f"error-{stamp}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    raise exc  # nowhere to write: let Python print it
