"""Where the corpora live: ``--data-dir`` flag, then ``$JTASK2VEC_DATA``, then ``../shared/data``.

The default ``../shared/data`` is tried relative to the current directory first, then relative to the
source checkout (the folder beside the project root, i.e. ``<checkout>/../shared/data``). Nothing is ever
written there by the loaders.
"""

from __future__ import annotations

import os
from pathlib import Path

from jtask2vec.errors import DataError

ENV_VAR = "JTASK2VEC_DATA"
DEFAULT_RELATIVE = Path("..") / "shared" / "data"


def default_candidates() -> list[Path]:
    """The default locations, in the order they are tried."""
    project_root = Path(__file__).resolve().parents[3]  # src/jtask2vec/tasks/data_dir.py -> project root
    out = [Path.cwd() / DEFAULT_RELATIVE, project_root / DEFAULT_RELATIVE]
    unique: list[Path] = []
    for p in out:
        if p.resolve() not in {q.resolve() for q in unique}:
            unique.append(p)
    return unique


def resolve_data_dir(explicit: Path | str | None = None) -> Path:
    """The data directory: ``explicit`` > ``$JTASK2VEC_DATA`` > the first existing default.

    Raises :class:`DataError` naming every place it looked when none exists.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_dir():
            raise DataError("data directory (--data-dir) does not exist or is not a folder", path=path)
        return path
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataError(f"data directory from ${ENV_VAR} does not exist or is not a folder", path=path)
        return path
    candidates = default_candidates()
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    looked = ", ".join(str(p.resolve()) for p in candidates)
    raise DataError(
        f"no data directory: --data-dir not given, ${ENV_VAR} not set, and none of the defaults exists "
        f"(looked in: {looked})",
        hint="pass --data-dir, set JTASK2VEC_DATA, or fetch a corpus with `jtask2vec tasks download`",
    )
