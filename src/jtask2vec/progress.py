"""One overall progress display for long runs (rich), silent when disabled or not on a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class OverallProgress:
    """Counts units of work (fine-tunes, embeddings, transfer cells...) across the stages of a run."""

    def __init__(self, progress: Progress | None, console: Console | None) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=0) if progress else None
        self._console = console

    def add(self, units: int) -> None:
        if self._progress is not None and self._task is not None:
            total = self._progress.tasks[0].total or 0
            self._progress.update(self._task, total=total + units)

    def stage(self, description: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)

    def advance(self, units: int = 1, description: str | None = None) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=units, description=description)

    def log(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message, highlight=False)
        elif self._console is not None:
            self._console.print(message, highlight=False)


@contextmanager
def overall_progress(enabled: bool = True, console: Console | None = None) -> Iterator[OverallProgress]:
    console = console or Console(stderr=True)
    if not enabled:
        yield OverallProgress(None, None)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:
        yield OverallProgress(progress, console)
