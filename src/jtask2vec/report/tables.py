"""Pivots of a run's long-format tables into the study's layout: pure pandas in, DataFrames out.

Aggregation over seeds is always: ``mean`` = arithmetic mean, ``std`` = sample standard deviation
(``ddof=1``, undefined with one seed), ``n`` = number of seeds that contributed to the cell.

- Table 2: test accuracy and macro-F1 of each task's own fine-tune (rows tasks).
- Table 3: cosine similarity between task vectors, ``1 - value`` of the ``cosine`` distance rows
  (square, tasks x tasks).
- Table 4: accuracy after transfer, rows target, columns source, the no-transfer baseline
  (:data:`~jtask2vec.results.BASELINE_SOURCE`) as its own first column; and the gain
  ``accuracy - baseline accuracy`` (same target, same seed).

The evaluation table's pivot lives in :mod:`jtask2vec.report.evaluation_grid`; everything the report needs,
computed once, in :mod:`jtask2vec.report.data`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from jtask2vec.report.evaluation_grid import metric_order, selector_order
from jtask2vec.results import BASELINE_SOURCE, RunResults

__all__ = [  # metric_order and selector_order: re-exported for callers of the former single module
    "MeanStd",
    "best_sources",
    "distance_matrix",
    "metric_order",
    "selector_order",
    "similarity_matrix",
    "table2_accuracy",
    "table3_cosine",
    "table4_gain",
    "table4_transfer",
]

SYMMETRIC_DISTANCES = frozenset({"cosine", "normalized-cosine", "rms-cosine", "symmetric-kl"})


def is_cosine_like(distance: str) -> bool:
    """Distances of the form ``1 - cosine(...)``: their similarity ``1 - value`` is a cosine."""
    return distance.endswith("cosine")


def is_symmetric(distance: str) -> bool:
    return distance in SYMMETRIC_DISTANCES


@dataclass(frozen=True)
class MeanStd:
    """A pivot aggregated over seeds: three frames with the same index and columns."""

    mean: pd.DataFrame
    std: pd.DataFrame
    n: pd.DataFrame

    @property
    def empty(self) -> bool:
        return bool(self.n.fillna(0).to_numpy().sum() == 0)


# ---- task names ------------------------------------------------------------------------------------------


def task_order(results: RunResults) -> list[str]:
    """Tasks in suite order, then any other task name found in the tables (sorted)."""
    names = list(results.suite.task_names)
    seen = set(names)
    found: set[str] = set()
    for frame, cols in (
        (results.tasks, ["task"]),
        (results.finetune, ["task"]),
        (results.transfer, ["source", "target"]),
        (results.distances, ["a", "b"]),
    ):
        for col in cols:
            if col in frame.columns:
                found.update(str(v) for v in frame[col].dropna().unique())
    found.discard(BASELINE_SOURCE)
    return names + sorted(found - seen)


def stand_ins(results: RunResults) -> dict[str, str]:
    """``task -> study task it stands in for``: from the suite, overridden by the tasks table."""
    out = {t.name: t.stand_in_for for t in results.suite.tasks if t.stand_in_for}
    if "stand_in_for" in results.tasks.columns:
        for task, study in zip(results.tasks["task"], results.tasks["stand_in_for"], strict=True):
            if isinstance(study, str) and study.strip():
                out[str(task)] = study.strip()
    return out


def task_label(name: str, stand_in: dict[str, str]) -> str:
    """``jrte-part1 (stand-in for rakuten.1)`` for a stand-in task, else the name."""
    return f"{name} (stand-in for {stand_in[name]})" if name in stand_in else name


def short_label(name: str, stand_in: dict[str, str]) -> str:
    """``jrte-part1†`` for a stand-in task (matrix headers; the † is explained under the table)."""
    return f"{name}†" if name in stand_in else name


# ---- seeds -------------------------------------------------------------------------------------------


def seeds_seen(results: RunResults) -> list[int]:
    """Seeds that occur in the result tables; the suite's seeds when no table has any."""
    seeds: set[int] = set()
    for frame in (results.finetune, results.transfer, results.distances, results.scores):
        if "seed" in frame.columns:
            seeds.update(int(s) for s in frame["seed"].dropna().unique())
    return sorted(seeds) if seeds else list(results.suite.seeds)


# ---- aggregation helpers -----------------------------------------------------------------------------


def aggregate(
    frame: pd.DataFrame, rows: str, cols: str, value: str, index: list[str], columns: list[str]
) -> MeanStd:
    """Mean/std/count of ``value`` over seeds for each ``(rows, cols)`` cell, reindexed to the given order."""
    data = frame[[rows, cols, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    data = data.dropna(subset=[value])
    data[rows] = data[rows].astype(str)
    data[cols] = data[cols].astype(str)
    grouped = data.groupby([rows, cols], sort=False)[value]
    parts = {}
    for stat in ("mean", "std", "count"):
        agg = grouped.agg(stat) if len(data) else pd.Series(dtype=float)
        wide = agg.unstack(cols) if len(agg) else pd.DataFrame(dtype=float)
        parts[stat] = wide.reindex(index=index, columns=columns).astype(float)
    parts["count"] = parts["count"].fillna(0).astype(int)
    for stat in parts.values():
        stat.index.name = rows
        stat.columns.name = cols
    return MeanStd(parts["mean"], parts["std"], parts["count"])


# ---- Table 2 -----------------------------------------------------------------------------------------


def table2_accuracy(results: RunResults, order: list[str] | None = None) -> pd.DataFrame:
    """Rows tasks; columns ``n_seeds, accuracy_mean, accuracy_std, macro_f1_mean, macro_f1_std``."""
    order = order or task_order(results)
    ft = results.finetune
    columns = ["n_seeds", "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std"]
    if ft.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="task"), dtype=float)
    ft = ft.copy()
    ft["task"] = ft["task"].astype(str)
    out = pd.DataFrame(index=pd.Index([t for t in order if t in set(ft["task"])], name="task"))
    for metric in ("accuracy", "macro_f1"):
        values = pd.to_numeric(ft[metric], errors="coerce") if metric in ft.columns else np.nan
        grouped = ft.assign(_v=values).groupby("task")["_v"]
        out[f"{metric}_mean"] = grouped.mean()
        out[f"{metric}_std"] = grouped.std(ddof=1)
        if metric == "accuracy":
            out["n_seeds"] = grouped.count()
    return out[columns]


# ---- Table 3 and the other distances -----------------------------------------------------------------


def distance_names(results: RunResults) -> list[str]:
    """Distances present in the run, in the suite's order, then any other (sorted)."""
    if results.distances.empty:
        return []
    present = {str(d) for d in results.distances["distance"].dropna().unique()}
    ordered = [d for d in results.suite.evaluation.distances if d in present]
    return ordered + sorted(present - set(ordered))


def _symmetrised(rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``(b, a)`` for every stored ``(a, b)`` whose mirror is missing (same seed)."""
    mirrored = rows.rename(columns={"a": "b", "b": "a"})
    both = pd.concat([rows, mirrored], ignore_index=True)
    return both.drop_duplicates(subset=["seed", "a", "b"], keep="first")


def distance_matrix(results: RunResults, distance: str, order: list[str] | None = None) -> MeanStd:
    """``distance(a -> b)`` over seeds; rows ``a``, columns ``b``. Symmetric distances are mirrored."""
    order = order or task_order(results)
    rows = results.distances
    rows = rows[rows["distance"].astype(str) == distance][["seed", "a", "b", "value"]].copy()
    rows["a"] = rows["a"].astype(str)
    rows["b"] = rows["b"].astype(str)
    if is_symmetric(distance):
        rows = _symmetrised(rows)
    present = set(rows["a"]) | set(rows["b"])
    tasks = [t for t in order if t in present]
    return aggregate(rows, "a", "b", "value", tasks, tasks)


def similarity_matrix(results: RunResults, distance: str, order: list[str] | None = None) -> MeanStd:
    """``1 - distance`` for a cosine-like distance; the diagonal is 1 (cos(x, x)) where not stored."""
    if not is_cosine_like(distance):
        raise ValueError(f"{distance!r} is not a cosine distance; use distance_matrix")
    dist = distance_matrix(results, distance, order)
    mean = 1.0 - dist.mean
    std = dist.std.copy()
    for task in mean.index:
        if np.isnan(mean.at[task, task]):
            mean.at[task, task] = 1.0
    return MeanStd(mean, std, dist.n)


def off_diagonal(matrix: pd.DataFrame) -> pd.Series:
    """Off-diagonal cells of a square matrix as a Series indexed by ``(row, column)``, NaNs dropped."""
    cells = {
        (a, b): matrix.at[a, b]
        for a in matrix.index
        for b in matrix.columns
        if a != b and not np.isnan(matrix.at[a, b])
    }
    return pd.Series(cells, dtype=float)


def table3_cosine(results: RunResults, order: list[str] | None = None) -> MeanStd | None:
    """The study's Table 3 (raw cosine similarity); ``None`` when no ``cosine`` distance was computed."""
    if "cosine" not in distance_names(results):
        return None
    return similarity_matrix(results, "cosine", order)


# ---- Table 4 -----------------------------------------------------------------------------------------


def transfer_with_gain(results: RunResults) -> pd.DataFrame:
    """The transfer table with ``gain`` filled in where missing (accuracy - baseline, same target/seed)."""
    tr = results.transfer.copy()
    if tr.empty:
        return tr
    tr["source"] = tr["source"].astype(str)
    tr["target"] = tr["target"].astype(str)
    tr["accuracy"] = pd.to_numeric(tr["accuracy"], errors="coerce")
    base = tr[tr["source"] == BASELINE_SOURCE].groupby(["target", "seed"])["accuracy"].mean()
    computed = tr["accuracy"].to_numpy() - np.array(
        [base.get((t, s), np.nan) for t, s in zip(tr["target"], tr["seed"], strict=True)], dtype=float
    )
    gain = pd.to_numeric(tr["gain"], errors="coerce") if "gain" in tr.columns else pd.Series(np.nan, tr.index)
    tr["gain"] = gain.where(gain.notna(), computed)
    return tr


def transfer_axes(results: RunResults, order: list[str] | None = None) -> tuple[list[str], list[str]]:
    """``(targets, sources)`` of the transfer grid, in task order."""
    order = order or task_order(results)
    tr = results.transfer
    if tr.empty:
        return [], []
    targets_present = set(tr["target"].astype(str))
    sources_present = set(tr["source"].astype(str)) - {BASELINE_SOURCE}
    return [t for t in order if t in targets_present], [s for s in order if s in sources_present]


def table4_transfer(results: RunResults, order: list[str] | None = None) -> MeanStd | None:
    """Accuracy after transfer: rows target, columns ``[(pretrained), sources...]``."""
    if results.transfer.empty:
        return None
    targets, sources = transfer_axes(results, order)
    columns = [BASELINE_SOURCE, *sources]
    return aggregate(transfer_with_gain(results), "target", "source", "accuracy", targets, columns)


def table4_gain(results: RunResults, order: list[str] | None = None) -> MeanStd | None:
    """Transfer gain over the no-transfer baseline: rows target, columns source."""
    if results.transfer.empty:
        return None
    targets, sources = transfer_axes(results, order)
    tr = transfer_with_gain(results)
    tr = tr[tr["source"] != BASELINE_SOURCE]
    return aggregate(tr, "target", "source", "gain", targets, sources)


TIE_TOLERANCE = 1e-9  # accuracies this close are tied (as in jtask2vec.evaluation)


def best_of(row: pd.Series, exclude: list[str]) -> list[str]:
    """Labels of the highest values of ``row`` (ties all returned), ``exclude`` and NaNs left out."""
    cand = row.drop(labels=exclude, errors="ignore").dropna()
    if cand.empty:
        return []
    return [str(k) for k in cand.index if cand[k] >= cand.max() - TIE_TOLERANCE]


def best_sources(results: RunResults, order: list[str] | None = None) -> pd.DataFrame:
    """Per target: the sources with the highest mean transfer accuracy (ties all kept, self-transfer
    excluded), and the top pick (highest mean score over seeds) of every selector.

    Columns: ``target, best_sources (list), best_accuracy, baseline_accuracy`` then ``pick:<selector>``
    for every selector in :func:`selector_order` (``None`` where it scored nothing; first by name on a tie).
    """
    acc = table4_transfer(results, order)
    if acc is None:
        return pd.DataFrame()
    rows = []
    for target in acc.mean.index:
        best = best_of(acc.mean.loc[target], [BASELINE_SOURCE, target])
        rows.append(
            {
                "target": target,
                "best_sources": best,
                "best_accuracy": float(acc.mean.at[target, best[0]]) if best else np.nan,
                "baseline_accuracy": acc.mean.at[target, BASELINE_SOURCE],
            }
        )
    out = pd.DataFrame(rows)
    sc = results.scores
    if not sc.empty and len(out):
        sc = sc.copy()
        sc["score"] = pd.to_numeric(sc["score"], errors="coerce")
        sc = sc[sc["source"].astype(str) != sc["target"].astype(str)]
        mean_scores = sc.groupby(["selector", "target", "source"])["score"].mean()
        for selector in selector_order(results, sc["selector"].astype(str).unique().tolist()):
            picks = []
            for target in out["target"]:
                try:
                    s = mean_scores.loc[(selector, target)].dropna()
                except KeyError:
                    picks.append(None)
                    continue
                top = sorted(str(k) for k in s.index if s[k] == s.max())
                picks.append(top[0] if top else None)
            out[f"pick:{selector}"] = picks
    return out
