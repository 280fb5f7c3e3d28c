"""The transfer grid: every source's fine-tuned encoder, a fresh head, fine-tuned on every other target.

For each seed, a cell ``(source, target)`` is

1. ``finetune(source)`` from the pretrained probe with ``training`` (cached, shared by all its targets);
2. ``finetune(target, init_from=<source checkpoint>)`` with ``target_training``.

The baseline cell ``(None, target)`` fine-tunes the target from the pretrained probe with
``target_training``, so ``gain = accuracy(source → target) - accuracy(baseline of target)`` compares two
runs that differ only in their starting encoder (same seed, same settings, same data).

Every fine-tune is a job (:mod:`jtask2vec.jobs.graph`) publishing an artifact of the store keyed by its
inputs,
written atomically: kill a run at any moment and run it again, and only the unfinished fine-tunes run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from jtask2vec.config import TrainingConfig
from jtask2vec.errors import ConfigError
from jtask2vec.jobs.executors import Executor, InProcessExecutor, Work
from jtask2vec.jobs.graph import CellJobs, JobGraph, JobId, cell_jobs, job_id
from jtask2vec.jobs.scheduler import run_jobs
from jtask2vec.jobs.stages import WorkInputs, load_result, run_job
from jtask2vec.model.probes import Probe
from jtask2vec.model.training import FinetuneResult
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.base import Task

PRETRAINED = "(pretrained)"  # the ``source`` of baseline rows
METRICS = ("accuracy", "macro_f1", "balanced_accuracy")
GRID_COLUMNS = (
    "source",
    "target",
    "seed",
    *METRICS,
    "gain",
    "gain_macro_f1",
    "gain_balanced_accuracy",
    "baseline_accuracy",
    "best_epoch",
    "dev_metric",
    "train_seconds",
    "n_train",
    "checkpoint_key",
    "source_checkpoint_key",
)


@dataclass(frozen=True)
class Cell:
    """One fine-tune of the grid; ``source=None`` is the no-transfer baseline of ``target``."""

    source: str | None
    target: str
    seed: int


def plan_grid(sources: list[str], targets: list[str], seeds: list[int]) -> list[Cell]:
    """Per seed: the baseline of each target, then every ordered pair ``source != target``."""
    for label, names in (("sources", sources), ("targets", targets), ("seeds", seeds)):
        if len(set(names)) != len(names):
            raise ConfigError(f"{label} contain duplicates: {names}")
    cells: list[Cell] = []
    for seed in seeds:
        cells.extend(Cell(None, t, seed) for t in targets)
        cells.extend(Cell(s, t, seed) for t in targets for s in sources if s != t)
    return cells


def run_grid(
    cells: list[Cell],
    tasks: dict[str, Task],
    probe: Probe,
    training: TrainingConfig,
    target_training: TrainingConfig,
    store: ArtifactStore,
    executor: Callable[[Work, WorkInputs], Executor] | None = None,
    *,
    on_cell_done: Callable[[Cell], None] | None = None,
    device: str = "cpu",
) -> pd.DataFrame:
    """Run (or reuse) every cell and return the long table, one row per cell (columns ``GRID_COLUMNS``).

    ``source`` is ``"(pretrained)"`` for baselines; ``gain*`` are the cell's metrics minus its target's
    baseline for the same seed (0 on baseline rows). The fine-tunes run as jobs of the scheduler: a
    transfer starts as soon as its source's fine-tune is done. ``executor(work, inputs)`` builds the
    executor (default: in this process), e.g. ``lambda w, i: ProcessExecutor(w, i, workers=2)``.

    ``on_cell_done(cell)`` is called once per cell as soon as its result exists (stored or just run).
    A failed fine-tune raises :class:`jtask2vec.jobs.scheduler.JobsFailed` after the others finished.
    """
    missing = sorted({n for c in cells for n in (c.source, c.target) if n is not None} - set(tasks))
    if missing:
        raise ConfigError(f"the grid names tasks that were not loaded: {', '.join(missing)}")
    plan = {c: cell_jobs(c.source, c.target, c.seed, tasks, probe, training, target_training) for c in cells}
    graph = JobGraph(j for jobs in plan.values() for j in (jobs.baseline, jobs.source, jobs.transfer) if j)
    waiting_for: dict[JobId, list[Cell]] = {}
    for cell, jobs in plan.items():
        waiting_for.setdefault(job_id(jobs.result), []).append(cell)

    def done(job) -> None:
        for cell in waiting_for.pop(job_id(job), []) if on_cell_done is not None else []:
            on_cell_done(cell)

    inputs = WorkInputs(tasks, probe, str(store.root), device)
    build = executor or (lambda work, inputs: InProcessExecutor(work, inputs))
    run_jobs(list(graph), store, lambda _: build(run_job, inputs), on_done=done)
    return grid_table(plan, store)


def grid_table(plan: dict[Cell, CellJobs], store: ArtifactStore) -> pd.DataFrame:
    """The grid's long table from the stored fine-tunes of ``plan`` (cells in order)."""
    rows = []
    for cell, jobs in plan.items():
        baseline = stored_result(store, jobs.baseline.key)
        result = stored_result(store, jobs.result.key)
        rows.append(
            {
                "source": cell.source if cell.source is not None else PRETRAINED,
                "target": cell.target,
                "seed": cell.seed,
                **{m: getattr(result, m) for m in METRICS},
                "gain": result.accuracy - baseline.accuracy,
                "gain_macro_f1": result.macro_f1 - baseline.macro_f1,
                "gain_balanced_accuracy": result.balanced_accuracy - baseline.balanced_accuracy,
                "baseline_accuracy": baseline.accuracy,
                "best_epoch": result.best_epoch,
                "dev_metric": result.dev_metric,
                "train_seconds": result.train_seconds,
                "n_train": result.n_train,
                "checkpoint_key": result.checkpoint_key,
                "source_checkpoint_key": jobs.source.key if jobs.source is not None else None,
            }
        )
    return pd.DataFrame(rows, columns=list(GRID_COLUMNS))


def stored_result(store: ArtifactStore, key: str) -> FinetuneResult:
    result = load_result(store, key)
    if result is None:
        raise RuntimeError(f"fine-tune {key} is not in the store at {store.root}")
    return result


def grid_matrix(grid: pd.DataFrame, value: str = "accuracy", include_baseline: bool = True) -> pd.DataFrame:
    """Target rows × source columns of ``value`` averaged over seeds (NaN on the diagonal)."""
    table = grid if include_baseline else grid[grid["source"] != PRETRAINED]
    matrix = table.pivot_table(index="target", columns="source", values=value, aggfunc="mean")
    columns = [c for c in matrix.columns if c == PRETRAINED] + [c for c in matrix.columns if c != PRETRAINED]
    matrix = matrix[columns]
    for target in matrix.index:
        if target in matrix.columns:
            matrix.loc[target, target] = math.nan
    return matrix
