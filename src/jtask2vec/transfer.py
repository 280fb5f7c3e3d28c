"""The transfer grid: every source's fine-tuned encoder, a fresh head, fine-tuned on every other target.

For each seed, a cell ``(source, target)`` is

1. ``finetune(source)`` from the pretrained probe with ``training`` (cached, shared by all its targets);
2. ``finetune(target, init_from=<source checkpoint>)`` with ``target_training``.

The baseline cell ``(None, target)`` fine-tunes the target from the pretrained probe with
``target_training``, so ``gain = accuracy(source → target) - accuracy(baseline of target)`` compares two
runs that differ only in their starting encoder (same seed, same settings, same data).

Every fine-tune is an artifact of the store keyed by its inputs, written atomically: kill a run at any
moment and run it again, and only the unfinished fine-tunes run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from jtask2vec.config import TrainingConfig
from jtask2vec.errors import ConfigError
from jtask2vec.executors import Executor, LocalExecutor
from jtask2vec.probes import Probe
from jtask2vec.store import ArtifactStore
from jtask2vec.tasks.base import Task
from jtask2vec.training import FinetuneResult, finetune

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


@dataclass(frozen=True)
class FinetuneJob:
    """A fine-tune to run: ``task`` from the pretrained probe, or from ``source``'s checkpoint."""

    task: str
    seed: int
    role: str  # "source" (training) or "target" (target_training)
    source: str | None = None  # transfer: the source task, whose checkpoint is init_from
    init_from: str | None = None


@dataclass
class FinetuneRunner:
    """The picklable function an executor maps over jobs: runs (or reuses) one fine-tune.

    Holds the store's root rather than the store so that remote workers rebuild it on their side.
    """

    tasks: dict[str, Task]
    probe: Probe
    training: TrainingConfig
    target_training: TrainingConfig
    store_root: Path
    progress: bool = True
    device: str = "cpu"
    on_done: Callable[[FinetuneJob], None] | None = field(default=None, repr=False)
    target_tasks: dict[str, Task] | None = None  # the target-role versions (a suite's target regime)

    def __call__(self, job: FinetuneJob) -> FinetuneResult:
        config = self.training if job.role == "source" else self.target_training
        tasks = self.target_tasks if job.role == "target" and self.target_tasks is not None else self.tasks
        result = finetune(
            tasks[job.task],
            self.probe,
            config,
            job.seed,
            store=ArtifactStore(self.store_root),
            init_from=job.init_from,
            source_name=job.source,
            progress=self.progress,
            device=self.device,
        )
        if self.on_done is not None:
            self.on_done(job)
        return result


def run_grid(
    cells: list[Cell],
    tasks: dict[str, Task],
    probe: Probe,
    training: TrainingConfig,
    target_training: TrainingConfig,
    store: ArtifactStore,
    executor: Executor | None = None,
    progress: bool = True,
    on_cell_done: Callable[[Cell], None] | None = None,
    device: str = "cpu",
    target_tasks: dict[str, Task] | None = None,
) -> pd.DataFrame:
    """Run (or reuse) every cell and return the long table, one row per cell (columns ``GRID_COLUMNS``).

    ``source`` is ``"(pretrained)"`` for baselines; ``gain*`` are the cell's metrics minus its target's
    baseline for the same seed (0 on baseline rows). Two executor phases: (1) the sources' fine-tunes and
    the baselines, all from the pretrained probe; (2) the transfers, which need a source checkpoint.

    ``on_cell_done(cell)`` is called once per cell as soon as its result exists (with an in-process
    executor, right after the fine-tune; with a remote one, when the phase's ``map`` returns).

    ``target_tasks`` (a suite's target regime): the versions of the tasks that targets are trained on
    (baselines and transfers); sources are fine-tuned on ``tasks``. Default: ``tasks`` for both.
    """
    missing = sorted({n for c in cells for n in (c.source, c.target) if n is not None} - set(tasks))
    if missing:
        raise ConfigError(f"the grid names tasks that were not loaded: {', '.join(missing)}")
    executor = executor or LocalExecutor()
    fired: set[Cell] = set()

    def fire(job: FinetuneJob) -> None:
        if on_cell_done is None:
            return
        for cell in cells:
            is_baseline = cell.source is None and job == FinetuneJob(cell.target, cell.seed, "target")
            is_transfer = job.source is not None and (job.source, job.task, job.seed) == (
                cell.source,
                cell.target,
                cell.seed,
            )
            if (is_baseline or is_transfer) and cell not in fired:
                fired.add(cell)
                on_cell_done(cell)

    runner = FinetuneRunner(
        tasks,
        probe,
        training,
        target_training,
        store.root,
        progress,
        device=device,
        on_done=fire,
        target_tasks=target_tasks,
    )

    phase1: list[FinetuneJob] = []
    for cell in cells:
        phase1.append(FinetuneJob(cell.target, cell.seed, "target"))  # every target needs its baseline
        if cell.source is not None:
            phase1.append(FinetuneJob(cell.source, cell.seed, "source"))
    phase1 = list(dict.fromkeys(phase1))
    done1 = dict(zip(phase1, executor.map(runner, phase1), strict=True))
    for job in phase1:
        fire(job)

    phase2 = [
        FinetuneJob(
            c.target,
            c.seed,
            "target",
            source=c.source,
            init_from=done1[FinetuneJob(c.source, c.seed, "source")].checkpoint_key,
        )
        for c in cells
        if c.source is not None
    ]
    phase2 = list(dict.fromkeys(phase2))
    done2 = dict(zip(phase2, executor.map(runner, phase2), strict=True))
    for job in phase2:
        fire(job)

    rows = []
    for cell in cells:
        baseline = done1[FinetuneJob(cell.target, cell.seed, "target")]
        if cell.source is None:
            result, source_key = baseline, None
        else:
            source_key = done1[FinetuneJob(cell.source, cell.seed, "source")].checkpoint_key
            result = done2[FinetuneJob(cell.target, cell.seed, "target", cell.source, source_key)]
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
                "source_checkpoint_key": source_key,
            }
        )
    return pd.DataFrame(rows, columns=list(GRID_COLUMNS))


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
