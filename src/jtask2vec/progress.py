"""One progress display for a whole run (rich), silent when disabled or not on a terminal.

The scheduler feeds it job completions from every worker: one row per stage (fine-tune, transfer,
embed, selectors: done/total of the jobs that had to run) and an overall row with the elapsed time and
an ETA. Jobs found in the store are not counted, so the ETA reflects only work still to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class OverallProgress:
    """Counts units of work across the stages of a run: the overall row plus a row per stage."""

    def __init__(self, progress: Progress | None, console: Console | None) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=0) if progress else None
        self._console = console
        self._stages: dict[str, TaskID] = {}
        self.counts: dict[str, list[int]] = {}  # stage -> [done, total] (kept also when not displayed)

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

    # ---- fed by the scheduler -------------------------------------------------------------------------
    def plan_jobs(self, stage: str, total: int) -> None:
        """``total`` more jobs of ``stage`` will run."""
        counts = self.counts.setdefault(stage, [0, 0])
        counts[1] += total
        self.add(total)
        if self._progress is None:
            return
        if stage not in self._stages:
            self._stages[stage] = self._progress.add_task(f"  {stage}", total=0)
        self._progress.update(self._stages[stage], total=counts[1])

    def job_done(self, stage: str, description: str) -> None:
        """One job of ``stage`` finished (or failed) on some worker."""
        self.counts.setdefault(stage, [0, 0])[0] += 1
        self.advance(1, description=description)
        if self._progress is not None and stage in self._stages:
            self._progress.update(self._stages[stage], advance=1)

    def log(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message, highlight=False)
        elif self._console is not None:
            self._console.print(message, highlight=False)


@contextmanager
def overall_progress(enabled: bool = True, console: Console | None = None) -> Iterator[OverallProgress]:
    console = console or Console(stderr=True)
    if not enabled:
        yield OverallProgress(None, console)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:
        yield OverallProgress(progress, console)
