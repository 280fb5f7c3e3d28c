"""Does a selector rank the sources right? Metrics per target, intervals, paired comparisons, baseline tests.

Package layout: :mod:`~jtask2vec.evaluation.metrics` (metrics of one ranking, their exact definitions),
:mod:`~jtask2vec.evaluation.intervals` (confidence intervals and their measured coverage),
:mod:`~jtask2vec.evaluation.comparisons` (paired selector comparisons with Holm's correction, statistical ties
with the best source, best transfer vs no transfer), :mod:`~jtask2vec.evaluation.rows` (table plumbing).

Inputs and outputs are the long tables of :mod:`jtask2vec.results` (``scores``, ``transfer`` in;
``evaluation``, ``per_target``, ``baseline_tests`` out).

**Candidates.** For a (selector, seed, target), the candidate sources are those with both a score and a
transfer accuracy on that target for that seed; the no-transfer baseline (``source == BASELINE_SOURCE``)
and the target itself are never candidates. A selector whose scores carry a single seed for a target
(a seed-independent selector such as ``datasize``) is compared with the transfer results of every seed;
otherwise scores and transfer results are paired by seed and unpaired seeds are skipped.

**Metrics** (one value per selector, seed, target): ``n_sources``, ``top1_hit``, ``top1_tied_hit``,
``regret@k``, ``regret_rel@k``, ``ndcg``/``ndcg@k`` (min-max gain), ``ndcg_exp``/``ndcg_exp@k`` (gain
``2^(100·acc) − 1``), ``robs``, ``tror``, ``spearman``, ``kendall`` — defined in
:mod:`jtask2vec.evaluation.metrics`, all tie-aware (expected value over a uniformly random tie-break of the
scores). ``spearman_gain_pooled``, ``kendall_gain_pooled``: the rank correlations between score and *gain*
over all (source, target) pairs of one seed (``target == POOLED``).

Metrics that cannot be computed (fewer than 2 candidates, constant inputs) are NaN, skipped in the
averages and counted in the ``n_nan`` column of ``evaluation``.

**Random reference.** ``random:expected`` gives, for every (seed, target) of the transfer grid, the exact
expected value of each metric under a uniformly random ranking of all candidates: it is the evaluation of
an all-tied score (top-1 hit = #best / n, exact expected regret and NDCG), with the correlations set to
their expectation 0 (NaN when the accuracies are constant).

**Aggregation.** For each (selector, metric) the mean is taken over all non-NaN (seed, target) values,
with a ``confidence`` interval by ``ci_method`` (:mod:`jtask2vec.evaluation.intervals`): ``"t"`` (default:
Student t over seeds, the one whose coverage was measured near nominal), ``"bootstrap"`` (percentile
bootstrap over seeds, and over targets too with ``resample_targets``), ``"hierarchical"`` (nested bootstrap
over targets, then seeds). The ``ci_method`` column of ``evaluation`` says which was used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from jtask2vec.evaluation.comparisons import (
    baseline_tests,
    holm,
    lower_is_better,
    paired_comparisons,
    tied_with_best,
)
from jtask2vec.evaluation.intervals import bootstrap_mean_ci, hierarchical_bootstrap_ci, mean_ci, t_mean_ci
from jtask2vec.evaluation.metrics import (
    BEST_ATOL,
    expected_topk_max,
    metric_bounds,
    minmax_gains,
    ndcg,
    random_expected_metrics,
    rank_correlations,
    rank_of_best,
    ranking_metrics,
    regret_at_k,
    relative_regret_at_k,
    top1_hit,
    true_rank_of_top,
)
from jtask2vec.evaluation.rows import (
    POOLED,
    candidate_transfer,
    paired,
    per_target_rows,
    selector_scores,
)
from jtask2vec.results import TABLE_COLUMNS

RANDOM_EXPECTED = "random:expected"


def evaluate_selectors(
    scores: pd.DataFrame,
    transfer: pd.DataFrame,
    *,
    regret_ks: Sequence[int] = (1, 3),
    bootstrap_samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    resample_targets: bool = False,
    ci_method: Literal["t", "bootstrap", "hierarchical"] = "t",
    random_reference: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(evaluation, per_target)`` tables for every selector in ``scores`` (+ ``random:expected``).

    ``evaluation`` has the :mod:`jtask2vec.results` columns plus ``n_values`` (non-NaN values averaged),
    ``n_nan`` (values that could not be computed and were skipped) and ``ci_method``.
    """
    if any(int(k) < 1 for k in regret_ks):
        raise ValueError(f"regret_ks must be >= 1, got {list(regret_ks)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if ci_method not in ("bootstrap", "t", "hierarchical"):
        raise ValueError(f"ci_method must be 't', 'bootstrap' or 'hierarchical', got {ci_method!r}")
    if ci_method != "bootstrap" and resample_targets:
        raise ValueError("resample_targets needs ci_method='bootstrap'")
    cand = candidate_transfer(transfer)
    sel_scores = selector_scores(scores)
    _, tied = tied_with_best(transfer, confidence=confidence)
    rows: list[tuple[str, int, str, str, float]] = []
    for selector, sel in sel_scores.groupby("selector", sort=True):
        rows.extend(per_target_rows(str(selector), paired(sel, cand), regret_ks, False, tied))
    if random_reference and not cand.empty:
        joined = cand.assign(score=0.0)
        rows.extend(per_target_rows(RANDOM_EXPECTED, joined, regret_ks, True, tied))
    per_target = pd.DataFrame(rows, columns=TABLE_COLUMNS["per_target"])

    out = []
    metric_order = {m: i for i, m in enumerate(dict.fromkeys(per_target["metric"]))}
    for (selector, metric), g in per_target.groupby(["selector", "metric"], sort=False):
        wide = g.pivot(index="seed", columns="target", values="value")
        mean, low, high = mean_ci(
            wide.to_numpy(dtype=np.float64),
            ci_method,
            bootstrap_samples=bootstrap_samples,
            confidence=confidence,
            seed=seed,
            resample_targets=resample_targets,
        )
        lo, hi = metric_bounds(str(metric))
        low, high = (low, high) if math.isnan(low) else (max(low, lo), min(high, hi))
        ok = g.dropna(subset=["value"])
        if metric.endswith("_pooled"):
            pairs = per_target[(per_target["selector"] == selector) & (per_target["target"] != POOLED)]
            n_targets = pairs.loc[pairs["seed"].isin(ok["seed"]), "target"].nunique()
        else:
            n_targets = ok["target"].nunique()
        out.append(
            (selector, metric, mean, low, high, int(n_targets), int(ok["seed"].nunique()), len(ok),
             len(g) - len(ok), ci_method)
        )  # fmt: skip
    evaluation = pd.DataFrame(out, columns=[*TABLE_COLUMNS["evaluation"], "n_values", "n_nan", "ci_method"])
    evaluation = evaluation.sort_values(
        ["selector", "metric"], key=lambda c: c.map(metric_order) if c.name == "metric" else c
    ).reset_index(drop=True)
    return evaluation, per_target


__all__ = [
    "BEST_ATOL",
    "POOLED",
    "RANDOM_EXPECTED",
    "baseline_tests",
    "bootstrap_mean_ci",
    "evaluate_selectors",
    "expected_topk_max",
    "hierarchical_bootstrap_ci",
    "holm",
    "lower_is_better",
    "mean_ci",
    "minmax_gains",
    "ndcg",
    "paired_comparisons",
    "random_expected_metrics",
    "rank_correlations",
    "rank_of_best",
    "ranking_metrics",
    "regret_at_k",
    "relative_regret_at_k",
    "t_mean_ci",
    "tied_with_best",
    "top1_hit",
    "true_rank_of_top",
]
