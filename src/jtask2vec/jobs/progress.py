"""One progress display for a whole run: rich bars on a terminal, plain lines otherwise.

The scheduler feeds it job completions from every worker: one row per stage (fine-tune, transfer,
embed, selectors: done/total of the jobs that had to run) and an overall row with the elapsed time and
an ETA. Jobs found in the store are not counted, so the ETA reflects only work still to do. Without a
terminal (``run > log``) a line with done/total, the elapsed time and an ETA is printed every 30 seconds
while jobs run (``$JTASK2VEC_PROGRESS_SECONDS`` sets the period) and once when they are done.
"""

from __future__ import annotations

import os
import threading
import time
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
        self._started: float | None = None
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
        if self._started is None:
            self._started = time.monotonic()
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

    def line(self) -> str | None:
        """``progress: 3/11 jobs done (finetune 3/4, embed 0/4, ...); 1m05s elapsed, eta 2m30s``."""
        done = sum(c[0] for c in self.counts.values())
        total = sum(c[1] for c in self.counts.values())
        if not total or self._started is None:
            return None
        elapsed = time.monotonic() - self._started
        stages = ", ".join(f"{stage} {c[0]}/{c[1]}" for stage, c in self.counts.items())
        if done >= total:
            return f"progress: {done}/{total} jobs done ({stages}) in {_duration(elapsed)}"
        eta = _duration(elapsed * (total - done) / done) if done else "unknown until a job is done"
        return f"progress: {done}/{total} jobs done ({stages}); {_duration(elapsed)} elapsed, eta {eta}"

    def log(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message, highlight=False)
        elif self._console is not None:
            self._console.print(message, highlight=False)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def plain_interval() -> float:
    """Seconds between progress lines without a terminal (``$JTASK2VEC_PROGRESS_SECONDS``, default 30)."""
    try:
        return max(0.05, float(os.environ.get("JTASK2VEC_PROGRESS_SECONDS", "30")))
    except ValueError:
        return 30.0


@contextmanager
def plain_lines(tracker: OverallProgress, console: Console, interval: float) -> Iterator[None]:
    """Print ``tracker.line()`` every ``interval`` seconds from a timer thread, and once at a normal end."""
    stop = threading.Event()
    printed: list[str | None] = [None]

    def emit() -> None:
        line = tracker.line()
        if line is not None and line != printed[0]:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
            printed[0] = line

    def tick() -> None:
        while not stop.wait(interval):
            emit()

    thread = threading.Thread(target=tick, name="jtask2vec-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    emit()


@contextmanager
def overall_progress(enabled: bool = True, console: Console | None = None) -> Iterator[OverallProgress]:
    console = console or Console(stderr=True)
    if not enabled:
        yield OverallProgress(None, console)
        return
    if not console.is_terminal:
        tracker = OverallProgress(None, console)
        with plain_lines(tracker, console, plain_interval()):
            yield tracker
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield OverallProgress(progress, console)
