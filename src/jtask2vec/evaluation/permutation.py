"""Exact tests whose units are targets: sign-flip (paired, max-T over columns), permutation (unpaired), the
Student t interval over targets, and Friedman + Nemenyi for many selectors. Pure functions of arrays; the
claims built on them are in :mod:`jtask2vec.evaluation.claims`.

- :func:`sign_flip_maxt`: per-target differences ``d_t``; under H0 their signs are exchangeable. Exact over
  all ``2^T`` sign vectors for ``T ≤ EXACT_MAX_TARGETS`` (the observed one included, so ``p ≥ 2^-T``), else
  ``MONTE_CARLO_FLIPS`` random ones with ``p = (1 + #{≥}) / (1 + B)``. Several columns are tested together
  by the single-step max-T rule (one sign vector flips every column of a target).
- :func:`unpaired_permutation`: difference of means between independent samples, scipy's two-sided rule.
- :func:`friedman_nemenyi`: Friedman's test over targets (``scipy.stats.friedmanchisquare``) and Nemenyi's
  critical difference of mean ranks (Demšar 2006).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from jtask2vec.evaluation.comparisons import lower_is_better

EXACT_MAX_TARGETS = 16  # 65,536 sign vectors
MONTE_CARLO_FLIPS = 10_000
EXACT_MAX_RELABELLINGS = 50_000
_TOL = 1e-12  # ties in the permutation statistic count as "at least as extreme"


def target_table(wide: pd.DataFrame, selectors: Sequence[str]) -> pd.DataFrame:
    """The ``selectors`` columns of a targets × selectors table, only targets where every one has a value
    (rows are paired)."""
    selectors = list(selectors)
    pos = wide.columns.get_indexer(selectors)
    values = wide.to_numpy(dtype=np.float64)
    cols = np.where(pos[None, :] >= 0, values[:, np.maximum(pos, 0)], np.nan) if len(wide) else values[:, :0]
    keep = ~np.isnan(cols).any(axis=1) if cols.shape[1] else np.ones(len(wide), dtype=bool)
    return pd.DataFrame(cols[keep], index=wide.index[keep], columns=pd.Index(selectors, name="selector"))


@functools.lru_cache(maxsize=32)
def _sign_matrix(n: int, exact: bool, n_flips: int, seed: int) -> np.ndarray:
    """Every sign vector of length n (exact), else ``n_flips`` random ones; cached, read-only."""
    if exact:
        return np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    rng = np.random.default_rng(seed)
    return rng.choice((1.0, -1.0), size=(n_flips, n))


def sign_flip_maxt(
    diffs: np.ndarray,
    *,
    max_exact: int = EXACT_MAX_TARGETS,
    n_flips: int = MONTE_CARLO_FLIPS,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(means, p_adjusted, exact)`` for ``diffs`` of shape (targets, columns): two-sided sign-flip test of
    each column's mean, max-T adjusted over the columns (one column: the plain sign-flip test)."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim == 1:
        d = d[:, None]
    n, j = d.shape
    if n == 0:
        return np.full(j, np.nan), np.full(j, np.nan), True
    exact = n <= max_exact
    signs = _sign_matrix(n, exact, n_flips, seed)
    means = d.mean(axis=0)
    null_max = np.abs(signs @ d / n).max(axis=1)  # (flips,)
    observed = np.abs(means)
    hits = (null_max[:, None] >= observed[None, :] - _TOL).sum(axis=0)
    p = hits / signs.shape[0] if exact else (1 + hits) / (1 + signs.shape[0])
    return means, np.minimum(p, 1.0), exact


@functools.lru_cache(maxsize=32)
def _relabellings(n: int, nb: int, exact: bool, n_resamples: int, seed: int) -> np.ndarray:
    """Index sets of the ``nb`` values labelled "b": every one (exact) or ``n_resamples`` random ones."""
    if exact:
        return np.array(list(itertools.combinations(range(n), nb)))
    rng = np.random.default_rng(seed)
    return rng.permuted(np.tile(np.arange(n), (n_resamples, 1)), axis=1)[:, :nb]


def unpaired_permutation(
    a: np.ndarray, b: np.ndarray, *, n_resamples: int = MONTE_CARLO_FLIPS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(mean(b) − mean(a), two-sided p)`` of a permutation test of the difference in means between
    independent samples (rows; each column tested on its own with the same relabellings; two-sided
    ``p = min(1, 2·min(P*(≥), P*(≤)))`` as scipy's): exact over all
    relabellings when there are at most ``EXACT_MAX_RELABELLINGS``, else ``n_resamples`` random ones with
    ``p = (1 + #{≥}) / (1 + B)`` (agrees with ``scipy.stats.permutation_test``, tested; vectorised here
    because the power simulation calls it often). p is NaN with fewer than 2 rows in a sample. 1-D inputs
    give 0-d results."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    one = a.ndim == 1
    a2, b2 = (a[:, None], b[:, None]) if one else (a, b)
    j = a2.shape[1] if a2.ndim == 2 and a2.shape[0] else b2.shape[1]
    if a2.shape[0] == 0 or b2.shape[0] == 0:
        diff, p = np.full(j, np.nan), np.full(j, np.nan)
    else:
        diff = b2.mean(axis=0) - a2.mean(axis=0)
        if a2.shape[0] < 2 or b2.shape[0] < 2:
            p = np.full(j, np.nan)
        else:
            pooled = np.concatenate([b2, a2])
            n, nb = pooled.shape[0], b2.shape[0]
            total = pooled.sum(axis=0)
            exact = math.comb(n, nb) <= EXACT_MAX_RELABELLINGS
            idx = _relabellings(n, nb, exact, n_resamples, seed)  # (B, nb)
            sums_b = pooled[idx].sum(axis=1)  # (B, J)
            null = sums_b / nb - (total - sums_b) / (n - nb)
            above = (null >= diff - _TOL).sum(axis=0)
            below = (null <= diff + _TOL).sum(axis=0)
            if exact:
                p_above, p_below = above / null.shape[0], below / null.shape[0]
            else:
                p_above, p_below = (1 + above) / (1 + null.shape[0]), (1 + below) / (1 + null.shape[0])
            p = np.minimum(1.0, 2 * np.minimum(p_above, p_below))  # scipy's two-sided rule
    return (diff[0], p[0]) if one else (diff, p)


@functools.lru_cache(maxsize=256)
def _t_quantile(level: float, df: int) -> float:
    return float(stats.t.ppf(level, df))


def target_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student t interval of the mean over targets (NaN with fewer than 2 targets)."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[0]
    if n < 2:
        return float("nan"), float("nan")
    mean = float(v.mean())
    half = _t_quantile((1 + confidence) / 2, n - 1) * float(v.std(ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


@functools.lru_cache(maxsize=64)
def _studentized_range(level: float, k: int) -> float:
    return float(stats.studentized_range.ppf(level, k, np.inf))


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman's test over targets of many selectors, with Nemenyi's critical difference of mean ranks.

    ``mean_ranks``: rank 1 = best on each target (ties share their mean rank), averaged over targets.
    ``critical_difference``: ``q_α/√2 · √(k(k+1)/(6N))`` (q: studentized range, k selectors, N targets);
    ``cliques``: maximal groups of selectors whose mean ranks lie within the CD (the diagram's bars).
    ``differences``: the pairs (better, worse) whose ranks differ by more than the CD, called only when the
    Friedman test itself rejects.
    """

    metric: str
    n_targets: int
    statistic: float
    p_value: float
    mean_ranks: dict[str, float]
    critical_difference: float
    cliques: list[list[str]]
    differences: list[tuple[str, str]]


def friedman_nemenyi(
    wide: pd.DataFrame, metric: str, selectors: Sequence[str], *, confidence: float = 0.95
) -> FriedmanResult | None:
    """Friedman + Nemenyi over the targets where every selector has a value; None with < 3 selectors or
    < 2 targets."""
    table = target_table(wide, [s for s in selectors if s in wide.columns])
    k, n = table.shape[1], table.shape[0]
    if k < 3 or n < 2:
        return None
    values = table.to_numpy()
    oriented = values if lower_is_better(metric) else -values
    ranks = stats.rankdata(oriented, axis=1)
    mean_ranks = dict(zip(table.columns, ranks.mean(axis=0), strict=True))
    if np.all(np.ptp(values, axis=1) == 0):
        stat, p = 0.0, 1.0
    else:
        res = stats.friedmanchisquare(*values.T)
        stat, p = float(res.statistic), float(res.pvalue)
    alpha = 1 - confidence
    q = _studentized_range(1 - alpha, k) / math.sqrt(2)
    cd = q * math.sqrt(k * (k + 1) / (6 * n))
    order = sorted(mean_ranks, key=lambda s: mean_ranks[s])
    cliques: list[list[str]] = []
    for i, s in enumerate(order):
        group = [t for t in order[i:] if mean_ranks[t] - mean_ranks[s] <= cd]
        if len(group) > 1 and not any(set(group) <= set(c) for c in cliques):
            cliques.append(group)
    diffs = []
    if p < alpha:
        diffs = [(a, b) for a in order for b in order if mean_ranks[b] - mean_ranks[a] > cd]
    return FriedmanResult(metric, n, stat, p, mean_ranks, cd, cliques, diffs)
