"""The study's headline answers of one run, as structured values: which TASK2VEC distance ranks sources
best, whether it beats chance (decided by :mod:`jtask2vec.evaluation.claims`, a test over targets; the seed
intervals shown beside are stability only), and how many targets gain from transfer.

Used by the report's Findings section and by :mod:`jtask2vec.report.compare`, which puts two runs' answers
side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jtask2vec.evaluation.claims import Claim, HeadlineClaims
from jtask2vec.report.evaluation_grid import (
    TASK2VEC_PREFIX,
    EvaluationGrid,
    as_bool,
    find_metric,
    lower_is_better,
)
from jtask2vec.report.format import fmt, fmt_interval, is_missing
from jtask2vec.results import RunResults


def headline_metrics(metrics: list[str]) -> list[str]:
    """Top-1, regret@1 (else the smallest k), Spearman and NDCG, those present, in this order."""
    found = [find_metric(metrics, "top1"), find_metric(metrics, "regret")]
    for prefix in ("spearman", "ndcg"):
        found.append(next((m for m in metrics if m.lower().startswith(prefix)), None))
    return [m for m in dict.fromkeys(found) if m]


def cell_text(grid: EvaluationGrid, selector: str, metric: str) -> str:
    """``mean [low, high]``, or the mean alone where there is no interval (one seed)."""
    mean, low, high = (grid.mean.at[selector, metric], grid.ci_low.at[selector, metric],
                       grid.ci_high.at[selector, metric])  # fmt: skip
    return fmt(mean) if is_missing(low) else fmt_interval(mean, low, high)


CHANCE_WORDS = {"better": "better", "worse": "worse", "not distinguishable": "not distinguishable"}


def chance_relation(claim: Claim | None) -> str:
    """``better`` / ``worse`` / ``not distinguishable`` (the test over targets), ``n/a`` (cannot be tested:
    fewer than 2 targets), or ``""`` when chance was not evaluated."""
    if claim is None:
        return ""
    return CHANCE_WORDS.get(claim.verdict, "n/a")


@dataclass(frozen=True)
class DistanceFinding:
    """The best TASK2VEC distance on one metric and whether it beats chance over targets."""

    metric: str
    best: list[str]  # tied best TASK2VEC selectors (by the evaluation table's mean)
    best_text: str  # "mean [low, high]" of the first of them: the interval over seeds (stability)
    runner_up: str | None  # the best TASK2VEC selector not tied with it
    runner_up_text: str
    versus_random: str  # better / worse / not distinguishable / n/a (over targets), "" when not evaluated
    random_text: str
    random_name: str  # random:expected ("" when not evaluated)
    best_overall: list[str]  # best selector of all, TASK2VEC or not
    chance: Claim | None = None  # the test over targets behind versus_random


def distance_findings(
    grid: EvaluationGrid | None, found: HeadlineClaims | None = None
) -> list[DistanceFinding]:
    """One :class:`DistanceFinding` per headline metric with a TASK2VEC value; ``found``: the run's claims
    (:func:`jtask2vec.evaluation.claims.headline_claims`), without which nothing is judged against chance."""
    if grid is None:
        return []
    t2v = [s for s in grid.mean.index if str(s).startswith(TASK2VEC_PREFIX)]
    out = []
    for metric in headline_metrics(list(grid.mean.columns)):
        best = grid.best(metric, among=t2v)
        if not best:
            continue
        rest = [s for s in t2v if s not in best and not np.isnan(grid.mean.at[s, metric])]
        ordered = sorted(rest, key=lambda s: grid.mean.at[s, metric], reverse=not lower_is_better(metric))
        runner = ordered[0] if ordered else None
        claim = found.chance.get(metric) if found is not None else None
        chance = claim.other if claim is not None and claim.other in grid.mean.index else None
        out.append(
            DistanceFinding(
                metric=metric,
                best=best,
                best_text=cell_text(grid, best[0], metric),
                runner_up=runner,
                runner_up_text=cell_text(grid, runner, metric) if runner else "",
                versus_random=chance_relation(claim),
                random_text=cell_text(grid, chance, metric) if chance else "",
                random_name=claim.other if claim is not None else "",
                best_overall=grid.best(metric),
                chance=claim,
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
