"""Test hook: kill this process with SIGKILL at a named point, to prove crash safety with real processes.

Set ``JTASK2VEC_FAULT=<point>:<n>`` (several separated by commas) and the process kills itself the
``n``-th time it reaches ``<point>`` (counted per process, from 1). The points, all in the artifact store:

- ``staged``: the artifact's files are written into its staging folder, no manifest yet;
- ``publish``: the manifest is written and fsynced, the staging folder is about to be renamed;
- ``published``: the artifact is renamed into place, its claim (lock file) not yet released;
- ``claimed``: a claim (lock file) was just taken, nothing computed yet (a kill "during a fine-tune").

This is a testing aid only; with the variable unset (always, in normal use) :func:`fault_point` only
counts.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

FAULT_ENV = "JTASK2VEC_FAULT"
POINTS = ("staged", "publish", "published", "claimed")
_reached: Counter[str] = Counter()


def _planned() -> dict[str, int]:
    plan: dict[str, int] = {}
    for item in os.environ.get(FAULT_ENV, "").split(","):
        point, _, count = item.strip().partition(":")
        if point in POINTS and count.strip().isdigit():
            plan[point] = int(count)
    return plan


def fault_point(point: str) -> None:
    """Count one pass through ``point``; SIGKILL this process when ``JTASK2VEC_FAULT`` asks for it."""
    _reached[point] += 1
    if _planned().get(point) == _reached[point]:
        os.kill(os.getpid(), signal.SIGKILL)
