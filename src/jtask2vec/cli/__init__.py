"""Command-line interface: a thin typer layer over the Python API.

Every command module registers itself on :data:`jtask2vec.cli.app.app`. User errors
(:class:`jtask2vec.errors.Jtask2vecError`) are printed as one line with exit code 2, never a traceback.
"""

from __future__ import annotations

from jtask2vec.cli.app import app

# Command modules, imported for their registrations on `app`.
from jtask2vec.cli import tasks as _tasks  # noqa: F401  isort: skip
from jtask2vec.cli import train as _train  # noqa: F401  isort: skip
from jtask2vec.cli import embed as _embed  # noqa: F401  isort: skip
from jtask2vec.cli import pipeline as _pipeline  # noqa: F401  isort: skip
from jtask2vec.cli import store as _store  # noqa: F401  isort: skip
from jtask2vec.cli import compare as _compare  # noqa: F401  isort: skip
from jtask2vec.cli import zoo as _zoo  # noqa: F401  isort: skip
from jtask2vec.cli import power as _power  # noqa: F401  isort: skip
from jtask2vec.cli import rank as _rank  # noqa: F401  isort: skip


def main() -> None:
    app()


__all__ = ["app", "main"]
