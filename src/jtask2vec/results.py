"""`RunResults`: every table a run produces, in long format, and how it is saved next to the report.

Conventions shared by the pipeline, the evaluation and the report:

- ``finetune``   task, seed, accuracy, macro_f1, balanced_accuracy, best_epoch, train_seconds
- ``transfer``   source, target, seed, accuracy, macro_f1, balanced_accuracy, gain. The no-transfer baseline
                 of a target (the pretrained probe fine-tuned on it) has ``source == BASELINE_SOURCE``;
                 ``gain`` is accuracy minus that baseline's accuracy for the same target and seed.
- ``distances``  distance, seed, a, b, value. ``value`` is a distance: lower means closer. For
                 ``cosine`` it is 1 - cosine similarity. Asymmetric distances read "from a to b".
- ``scores``     selector, seed, target, source, score. Higher score = the selector expects a better
                 transfer from ``source`` to ``target``. TASK2VEC selectors are named
                 ``task2vec:<distance>`` and score ``-distance(source -> target)``; baselines are
                 ``random``, ``datasize``, ``textemb``, ``logme``. An optional ``flag`` column holds a
                 caveat of the score (``"not converged"``: LogME's evidence maximisation stopped at its
                 iteration limit), empty otherwise; the report and ``jtask2vec evaluate`` show it.
- ``evaluation`` selector, metric, mean, ci_low, ci_high, n_targets, n_seeds (bootstrap CI over seeds).
- ``per_target`` selector, seed, target, metric, value (the unaggregated metrics).
- ``baseline_tests`` target, best_source, mean_gain, ci_low, ci_high, beats_baseline: whether the best
                 transfer beats the no-transfer baseline beyond seed noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from jtask2vec.config import Suite
from jtask2vec.store.artifacts import atomic_write_json, atomic_write_text
from jtask2vec.tasks.base import Task

BASELINE_SOURCE = "(pretrained)"

TABLE_COLUMNS: dict[str, list[str]] = {
    "tasks": [
        "task",
        "loader",
        "kind",
        "stand_in_for",
        "n",
        "n_label0",
        "n_label1",
        "label0",
        "label1",
        "train",
        "dev",
        "test",
        "truncated_share",
        "tokens_p50",
        "tokens_p90",
        "tokens_max",
        "data_hash",
        "source",
        "licence",
    ],
    "finetune": ["task", "seed", "accuracy", "macro_f1", "balanced_accuracy", "best_epoch", "train_seconds"],
    "transfer": ["source", "target", "seed", "accuracy", "macro_f1", "balanced_accuracy", "gain"],
    "distances": ["distance", "seed", "a", "b", "value"],
    "scores": ["selector", "seed", "target", "source", "score"],
    "evaluation": ["selector", "metric", "mean", "ci_low", "ci_high", "n_targets", "n_seeds"],
    "per_target": ["selector", "seed", "target", "metric", "value"],
    "baseline_tests": ["target", "best_source", "mean_gain", "ci_low", "ci_high", "beats_baseline"],
}


FLAG_COLUMN = "flag"  # optional column of ``scores``: a caveat of the score, empty when none


def flagged_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of a ``scores`` table that carry a flag (none when the column is absent)."""
    if FLAG_COLUMN not in scores.columns:
        return scores.iloc[0:0].assign(**{FLAG_COLUMN: pd.Series(dtype=str)})
    flags = scores[FLAG_COLUMN].fillna("").astype(str).str.strip()
    return scores[flags != ""]


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=TABLE_COLUMNS[name])


def tasks_table(
    suite: Suite, tasks: dict[str, Task], target_tasks: dict[str, Task] | None = None, probe: Any = None
) -> pd.DataFrame:
    """The ``tasks`` table: kind, sizes, label balance, splits, truncation by the ``probe``'s tokenizer,
    the train size as a target (a suite's target regime), data hash and provenance of each task."""
    from jtask2vec.tasks.lengths import token_length_stats

    target_tasks = tasks if target_tasks is None else target_tasks
    rows = []
    for spec in suite.tasks:
        task = tasks[spec.name]
        counts = task.class_counts()
        row: dict[str, Any] = {
            "task": task.name,
            "loader": spec.loader,
            "kind": spec.kind or "",
            "stand_in_for": task.stand_in_for or "",
            "n": len(task),
            "n_label0": counts[task.label_names[0]],
            "n_label1": counts[task.label_names[1]],
            "label0": task.label_names[0],
            "label1": task.label_names[1],
            **task.split_sizes(),
        }
        if probe is not None:
            lengths = token_length_stats(task, probe.tokenizer, probe.max_length)
            row.update(
                truncated_share=lengths.truncated_share,
                tokens_p50=lengths.p50,
                tokens_p90=lengths.p90,
                tokens_max=lengths.max,
            )
        row["train_as_target"] = (
            len(target_tasks[task.name].indices("train")) if task.name in target_tasks else None
        )
        row.update(data_hash=task.data_hash, source=task.provenance.source, licence=task.provenance.licence)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class RunResults:
    """All results of one suite run. Tables follow :data:`TABLE_COLUMNS` (extra columns allowed)."""

    suite: Suite
    tasks: pd.DataFrame = field(default_factory=lambda: empty_table("tasks"))
    finetune: pd.DataFrame = field(default_factory=lambda: empty_table("finetune"))
    transfer: pd.DataFrame = field(default_factory=lambda: empty_table("transfer"))
    distances: pd.DataFrame = field(default_factory=lambda: empty_table("distances"))
    scores: pd.DataFrame = field(default_factory=lambda: empty_table("scores"))
    evaluation: pd.DataFrame = field(default_factory=lambda: empty_table("evaluation"))
    per_target: pd.DataFrame = field(default_factory=lambda: empty_table("per_target"))
    baseline_tests: pd.DataFrame = field(default_factory=lambda: empty_table("baseline_tests"))
    environment: dict[str, Any] = field(default_factory=dict)  # library versions, platform, wall time...

    def table_names(self) -> list[str]:
        return list(TABLE_COLUMNS)

    def save(self, folder: str | Path) -> None:
        """Write ``<table>.csv`` for every table and ``results.json`` (suite + environment), atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in TABLE_COLUMNS:
            atomic_write_text(folder / f"{name}.csv", getattr(self, name).to_csv(index=False))
        atomic_write_json(
            folder / "results.json",
            {"suite": self.suite.model_dump(mode="json"), "environment": self.environment},
        )

    @classmethod
    def load(cls, folder: str | Path) -> RunResults:
        folder = Path(folder)
        meta = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        tables = {}
        for name in TABLE_COLUMNS:
            path = folder / f"{name}.csv"
            tables[name] = (
                pd.read_csv(path, keep_default_na=False, na_values=[""])
                if path.is_file()
                else (empty_table(name))
            )
        if FLAG_COLUMN in tables["scores"].columns:  # an empty flag is "" in memory, NaN from the CSV
            tables["scores"][FLAG_COLUMN] = tables["scores"][FLAG_COLUMN].astype(object).fillna("")
        return cls(
            suite=Suite.model_validate(meta["suite"]), environment=meta.get("environment", {}), **tables
        )
