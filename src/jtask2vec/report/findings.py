"""The study's headline answers of one run, as structured values: which TASK2VEC distance ranks sources
best (with intervals), how it compares with random, and how many targets gain from transfer.

Used by the report's Findings section and by :mod:`jtask2vec.report.compare`, which puts two runs' answers
side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jtask2vec.report.evaluation_grid import (
    TASK2VEC_PREFIX,
    EvaluationGrid,
    as_bool,
    find_metric,
    intervals_overlap,
    lower_is_better,
)
from jtask2vec.report.format import fmt_interval
from jtask2vec.results import RunResults

# The chance level a distance is judged against: the exact expectation over uniformly random rankings
# (per target and seed) where the run has it, else the single random draw per seed (whose interval also
# carries the noise of that one draw, so it hides real leads).
RANDOM_REFERENCES = ("random:expected", "random")


def headline_metrics(metrics: list[str]) -> list[str]:
    """Top-1, regret@1 (else the smallest k), Spearman and NDCG, those present, in this order."""
    found = [find_metric(metrics, "top1"), find_metric(metrics, "regret")]
    for prefix in ("spearman", "ndcg"):
        found.append(next((m for m in metrics if m.lower().startswith(prefix)), None))
    return [m for m in dict.fromkeys(found) if m]


def cell_text(grid: EvaluationGrid, selector: str, metric: str) -> str:
    return fmt_interval(
        grid.mean.at[selector, metric], grid.ci_low.at[selector, metric], grid.ci_high.at[selector, metric]
    )


def _interval(grid: EvaluationGrid, selector: str, metric: str) -> tuple[float, float]:
    return float(grid.ci_low.at[selector, metric]), float(grid.ci_high.at[selector, metric])


def compare_cells(grid: EvaluationGrid, a: str, b: str, metric: str) -> str:
    """``better``/``worse`` (``a`` against ``b``; intervals disjoint), ``overlap``, or ``n/a``."""
    overlap = intervals_overlap(_interval(grid, a, metric), _interval(grid, b, metric))
    if overlap is None:
        return "n/a"
    if overlap:
        return "overlap"
    ma, mb = grid.mean.at[a, metric], grid.mean.at[b, metric]
    return "better" if ((ma < mb) if lower_is_better(metric) else (ma > mb)) else "worse"


@dataclass(frozen=True)
class DistanceFinding:
    """The best TASK2VEC distance on one metric and how clearly it leads."""

    metric: str
    best: list[str]  # tied best TASK2VEC selectors
    best_text: str  # "mean [low, high]" of the first of them
    runner_up: str | None  # the best TASK2VEC selector not tied with it
    runner_up_text: str
    versus_runner_up: str  # better / overlap / n/a
    versus_random: str  # better / overlap / worse / n/a, or "" when random was not evaluated
    random_text: str
    random_name: str  # the reference: random:expected, else random ("" when neither was evaluated)
    best_overall: list[str]  # best selector of all, TASK2VEC or not


def distance_findings(grid: EvaluationGrid | None) -> list[DistanceFinding]:
    """One :class:`DistanceFinding` per headline metric with a TASK2VEC value."""
    if grid is None:
        return []
    t2v = [s for s in grid.mean.index if str(s).startswith(TASK2VEC_PREFIX)]
    out = []
    for metric in headline_metrics(list(grid.mean.columns)):
        best = grid.best(metric, among=t2v)
        if not best:
            continue
        lead = best[0]
        rest = [s for s in t2v if s not in best and not np.isnan(grid.mean.at[s, metric])]
        ordered = sorted(rest, key=lambda s: grid.mean.at[s, metric], reverse=not lower_is_better(metric))
        runner = ordered[0] if ordered else None
        chance = next(
            (r for r in RANDOM_REFERENCES if r in grid.mean.index and not np.isnan(grid.mean.at[r, metric])),
            None,
        )
        out.append(
            DistanceFinding(
                metric=metric,
                best=best,
                best_text=cell_text(grid, lead, metric),
                runner_up=runner,
                runner_up_text=cell_text(grid, runner, metric) if runner else "",
                versus_runner_up=compare_cells(grid, lead, runner, metric) if runner else "n/a",
                versus_random=compare_cells(grid, lead, chance, metric) if chance else "",
                random_text=cell_text(grid, chance, metric) if chance else "",
                random_name=chance or "",
                best_overall=grid.best(metric),
            )
        )
    return out


def targets_beating_baseline(results: RunResults) -> tuple[int, int] | None:
    """``(k, n)``: k of n targets whose best transfer beats no transfer beyond seed noise; ``None`` when not
    tested or not judgeable (one seed)."""
    tests = results.baseline_tests
    if tests.empty:
        return None
    flags = [as_bool(v) for v in tests["beats_baseline"]]
    if all(f is None for f in flags):
        return None
    return sum(f is True for f in flags), len(flags)
