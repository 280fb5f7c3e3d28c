"""Metrics of one ranking: scores of the candidate sources vs their transfer accuracies. All tie-aware: ties
in the score count as the expectation over a uniformly random tie-break (exact, no sampling).

``acc`` = transfer accuracy of each candidate; accuracies within ``BEST_ATOL`` of the best are all best.

- ``top1_hit``: 1 if the top-scored source is among the best, else 0 (expected over ties at the top).
- ``top1_tied_hit``: the same, with "best" widened to the sources *statistically tied* with the best over
  seeds (:func:`jtask2vec.evaluation.comparisons.tied_with_best`).
- ``regret@k``: ``max(acc) − max(acc over the k top-scored)``, accuracy units (0 = perfect).
- ``regret_rel@k``: ``(max(acc) − max(acc over the k top-scored)) / max(acc) × 100``, a percentage of the
  best accuracy (the relative regret of model-selection papers).
- ``ndcg``, ``ndcg@k``: NDCG with gains min-max scaled per (target, seed): ``(acc − min) / (max − min)``.
- ``ndcg_exp``, ``ndcg_exp@k``: NDCG with the gain ``2^(100·acc) − 1`` of Schulte et al. 2024 /
  hf-dataset-selector (accuracy in [0, 1]; the target itself is never a candidate).
  Both via :func:`sklearn.metrics.ndcg_score` with ``ignore_ties=False`` (tied scores share their mean gain).
- ``robs``: rank of the best source in the selector's ranking (1 = the best source is ranked first);
  with several best sources, the first of them; expected over score ties.
- ``tror``: true rank of the top-ranked source (1 = it is the best; competition ranking of accuracies,
  ties in accuracy share the better rank); expected over ties at the top of the scores.
- ``spearman``, ``kendall``: rank correlations of score and accuracy, expected over score tie-breaks
  (:func:`rank_correlations`; 0 for constant scores, NaN when the accuracies are constant).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import ndcg_score

BEST_ATOL = 1e-9  # accuracies within this of the best count as best
EXP_GAIN_SCALE = 100.0  # gain 2^(100·acc) − 1


def metric_bounds(metric: str) -> tuple[float, float]:
    """The range every value of ``metric`` lies in (``±inf`` where open): an interval of its mean is clipped
    to it, since a t interval of a bounded mean can reach past the bound (e.g. top-1 ``1.0 ± 0.2``)."""
    base = metric.split("@", 1)[0]
    if base in ("top1_hit", "top1_tied_hit", "ndcg", "ndcg_exp", "regret"):
        return 0.0, 1.0  # hit rates, NDCG, and a regret in accuracy units (accuracies are in [0, 1])
    if base == "regret_rel":
        return 0.0, 100.0  # a percentage of the best accuracy
    if base.startswith(("spearman", "kendall")):
        return -1.0, 1.0
    if base in ("robs", "tror"):
        return 1.0, math.inf  # ranks
    return -math.inf, math.inf


def _best_mask(values: np.ndarray) -> np.ndarray:
    return values >= values.max() - BEST_ATOL


def expected_topk_max(scores: Sequence[float], values: Sequence[float], k: int) -> float:
    """E[max of ``values`` over the k top-scored items], ties in ``scores`` broken uniformly at random.

    Items scored strictly above the tie group that straddles rank k are always in; from that group of g
    items, m are drawn uniformly, and the i-th largest of its values (1-based) is the group's maximum with
    probability C(g − i, m − 1) / C(g, m).
    """
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    n = s.shape[0]
    if n == 0 or k < 1:
        raise ValueError("expected_topk_max needs at least one item and k >= 1")
    k = min(k, n)
    levels = np.unique(s)[::-1]
    above = np.zeros(n, dtype=bool)
    for level in levels:
        group = s == level
        if above.sum() + group.sum() <= k:
            above |= group
            if above.sum() == k:
                return float(v[above].max())
            continue
        m = k - int(above.sum())
        floor = float(v[above].max()) if above.any() else -math.inf
        b = np.sort(v[group])[::-1]
        g = b.shape[0]
        total = math.comb(g, m)
        return float(sum(math.comb(g - i, m - 1) / total * max(floor, b[i - 1]) for i in range(1, g + 1)))
    raise AssertionError("unreachable")  # pragma: no cover


def top1_hit(scores: Sequence[float], values: Sequence[float], best: Sequence[bool] | None = None) -> float:
    """Fraction of the top-scored items (a tie group) that are among the best (expected hit).

    ``best`` (bool per item) overrides which items count as best (default: within ``BEST_ATOL`` of the max).
    """
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    top = s == s.max()
    mask = _best_mask(v) if best is None else np.asarray(best, dtype=bool)
    return float(mask[top].mean())


def regret_at_k(scores: Sequence[float], values: Sequence[float], k: int) -> float:
    """``max(values) − E[max of values over the k top-scored]`` (k capped at the number of items)."""
    return float(np.max(values)) - expected_topk_max(scores, values, k)


def relative_regret_at_k(scores: Sequence[float], values: Sequence[float], k: int) -> float:
    """``regret@k / max(values) × 100``: the regret as a percentage of the best value; NaN if that is ≤ 0."""
    best = float(np.max(values))
    return regret_at_k(scores, values, k) / best * 100.0 if best > 0 else float("nan")


def minmax_gains(values: Sequence[float]) -> np.ndarray | None:
    """``(v − min v) / (max v − min v)``; None when all values are equal."""
    v = np.asarray(values, dtype=np.float64)
    span = float(v.max() - v.min())
    return None if span <= 0 else (v - v.min()) / span


def exp_gains(values: Sequence[float]) -> np.ndarray:
    """``2^(100·v) − 1`` (Schulte et al. 2024): a top-heavy gain, accuracies in [0, 1]."""
    return np.expm1(EXP_GAIN_SCALE * np.asarray(values, dtype=np.float64) * math.log(2.0))


def ndcg(
    scores: Sequence[float], values: Sequence[float], k: int | None = None, gain: str = "minmax"
) -> float:
    """NDCG(@k) with ``gain`` "minmax" (default) or "exp" (``2^(100·acc) − 1``); tied scores share their mean
    gain (sklearn). NaN when undefined (fewer than 2 items, all min-max gains equal, all exp gains 0)."""
    if gain == "minmax":
        gains = minmax_gains(values)
    elif gain == "exp":
        gains = exp_gains(values)
        # NDCG is invariant to scaling the gains: max 1 (sklearn casts gains ~2^90 to int to check them)
        gains = gains / gains.max() if gains.max() > 0 else None
    else:
        raise ValueError(f"gain must be 'minmax' or 'exp', got {gain!r}")
    if gains is None or len(gains) < 2:
        return float("nan")
    return float(
        ndcg_score(gains[None, :], np.asarray(scores, dtype=np.float64)[None, :], k=k, ignore_ties=False)
    )


def rank_of_best(scores: Sequence[float], values: Sequence[float]) -> float:
    """ROBS: expected 1-based position of the first best item in the ranking, ties broken at random.

    Items scored above the first score level that holds a best item come first; within that level of g
    items, b of them best, the first best one of a uniformly random order sits at (g + 1) / (b + 1).
    """
    s = np.asarray(scores, dtype=np.float64)
    best = _best_mask(np.asarray(values, dtype=np.float64))
    above = 0
    for level in np.unique(s)[::-1]:
        group = s == level
        b = int((group & best).sum())
        if b:
            return above + (int(group.sum()) + 1) / (b + 1)
        above += int(group.sum())
    raise AssertionError("unreachable")  # pragma: no cover


def true_rank_of_top(scores: Sequence[float], values: Sequence[float]) -> float:
    """TROR: true rank (1 + number of strictly better items) of the top-scored item, mean over a top tie."""
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    top = np.flatnonzero(s == s.max())
    return float(np.mean([1 + int(np.sum(v > v[i] + BEST_ATOL)) for i in top]))


def rank_correlations(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(Spearman ρ, Kendall τ) between scores x and accuracies y, each the exact expectation over a uniformly
    random tie-break of the scores x (the tie rule of every metric here); ties in the accuracies y are real
    ties of the ground truth and keep average ranks (ρ) and τ-b's correction on y's side.

    Breaking x's ties makes x's ranks a permutation of 1..n, so ρ's denominator is fixed and its numerator is
    linear in the ranks: ``E[ρ] = Σ (r̄x_i − m)(ry_i − m̄y) / √(n(n²−1)/12 · Σ (ry_i − m̄y)²)`` with r̄x the
    average ranks. A pair tied in x is concordant or discordant with probability ½ each:
    ``E[τ] = Σ_{i<j} sgn(Δx) sgn(Δy) / √(n0 (n0 − n_y))``, ``n0 = n(n−1)/2``, ``n_y`` the pairs tied in y.
    Constant scores give 0 (a random ranking); NaN for fewer than 2 points or constant accuracies.
    (scipy's average-rank ρ and τ-b would inflate |ρ| for selectors with many ties: checked by brute force.)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    if n < 2 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    cy = ry - ry.mean()
    rho = float(np.dot(rx - rx.mean(), cy) / math.sqrt(n * (n * n - 1) / 12.0 * float(np.dot(cy, cy))))
    iu = np.triu_indices(n, 1)
    sx = np.sign(x[:, None] - x[None, :])[iu]
    sy = np.sign(y[:, None] - y[None, :])[iu]
    n0 = n * (n - 1) / 2.0
    n_y = float(np.sum(sy == 0))
    tau = float(np.dot(sx, sy) / math.sqrt(n0 * (n0 - n_y)))
    return rho, tau


def ranking_metrics(
    scores: Sequence[float],
    accuracies: Sequence[float],
    regret_ks: Sequence[int] = (1, 3),
    tied_best: Sequence[bool] | None = None,
) -> dict[str, float]:
    """All per-target metrics of one ranking (see the module docstring); NaN where undefined.

    ``tied_best``: per candidate, whether it is statistically tied with the best (``top1_tied_hit``); the
    metric is NaN when not given.
    """
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    n = s.shape[0]
    out: dict[str, float] = {"n_sources": float(n)}
    nan = float("nan")
    defined = n >= 2
    out["top1_hit"] = top1_hit(s, a) if defined else nan
    out["top1_tied_hit"] = top1_hit(s, a, tied_best) if defined and tied_best is not None else nan
    for k in regret_ks:
        out[f"regret@{k}"] = regret_at_k(s, a, k) if defined else nan
    for k in regret_ks:
        out[f"regret_rel@{k}"] = relative_regret_at_k(s, a, k) if defined else nan
    out["ndcg"] = ndcg(s, a) if defined else nan
    for k in regret_ks:
        out[f"ndcg@{k}"] = ndcg(s, a, k) if defined else nan
    out["ndcg_exp"] = ndcg(s, a, gain="exp") if defined else nan
    for k in regret_ks:
        out[f"ndcg_exp@{k}"] = ndcg(s, a, k, gain="exp") if defined else nan
    out["robs"] = rank_of_best(s, a) if defined else nan
    out["tror"] = true_rank_of_top(s, a) if defined else nan
    out["spearman"], out["kendall"] = rank_correlations(s, a)
    return out


def random_expected_metrics(
    accuracies: Sequence[float], regret_ks: Sequence[int] = (1, 3), tied_best: Sequence[bool] | None = None
) -> dict[str, float]:
    """Exact expectation of :func:`ranking_metrics` under a uniformly random ranking of the candidates."""
    a = np.asarray(accuracies, dtype=np.float64)
    out = ranking_metrics(np.zeros_like(a), a, regret_ks, tied_best)  # all tied = random tie-break
    zero = 0.0 if a.shape[0] >= 2 and np.ptp(a) > 0 else float("nan")
    out["spearman"] = out["kendall"] = zero
    return out
