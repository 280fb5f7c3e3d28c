"""Confidence intervals of a mean over a (seeds × targets) array of per-target metric values (NaN = missing).

- ``t``: Student t over the per-seed means, ``mean ± t_{n−1} · sd(seed means) / √n`` (:func:`t_mean_ci`).
  Covers what another run with new seeds on the *same* targets would give.
- ``bootstrap``: percentile bootstrap over seeds (optionally also over targets, crossed: ``resample_targets``)
  (:func:`bootstrap_mean_ci`).
- ``hierarchical``: nested percentile bootstrap — targets resampled with replacement, then seeds resampled
  with replacement within each drawn target (:func:`hierarchical_bootstrap_ci`). Covers a new draw of
  targets *and* seeds.

Measured coverage (``tests/evaluation/test_interval_coverage.py``; docs/method.md): with the usual 2–5
seeds the
percentile bootstrap over seeds is much too narrow, the t interval holds its level — hence ``t`` is the
default ``ci_method``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def bootstrap_mean_ci(
    values: np.ndarray,
    *,
    bootstrap_samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    resample_targets: bool = False,
) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of a (n_seeds, n_targets) array with NaN for missing values.

    The mean is over all non-NaN entries; the percentile bootstrap resamples rows (seeds) with replacement,
    and also columns (targets) when ``resample_targets``. Resamples with no value are dropped. The CI is NaN
    when there is nothing to resample (one seed and ``resample_targets`` off, or one seed and one target).
    """
    v = np.asarray(values, dtype=np.float64)
    mask = ~np.isnan(v)
    if not mask.any():
        return float("nan"), float("nan"), float("nan")
    mean = float(v[mask].mean())
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    v, mask = v[np.ix_(rows, cols)], mask[np.ix_(rows, cols)]
    n_s, n_t = v.shape
    if n_s < 2 and not (resample_targets and n_t >= 2):
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    b = int(bootstrap_samples)
    ws = np.stack([np.bincount(r, minlength=n_s) for r in rng.integers(0, n_s, size=(b, n_s))])
    if resample_targets:
        wt = np.stack([np.bincount(r, minlength=n_t) for r in rng.integers(0, n_t, size=(b, n_t))])
    else:
        wt = np.ones((b, n_t), dtype=np.int64)
    v0 = np.where(mask, v, 0.0)
    num = np.einsum("bs,st,bt->b", ws, v0, wt)
    den = np.einsum("bs,st,bt->b", ws, mask.astype(np.float64), wt)
    stat = num[den > 0] / den[den > 0]
    alpha = 1.0 - confidence
    low, high = np.quantile(stat, [alpha / 2, 1 - alpha / 2])
    return mean, float(low), float(high)


def t_mean_ci(values: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of a (n_seeds, n_targets) array with NaN: Student t over per-seed means.

    The centre is the mean of all non-NaN entries (equal to the mean of the seed means when no entry is
    missing); the half-width is ``t_{(1+c)/2, n−1} · sd(seed means) / √n``. NaN CI with fewer than 2 seeds.
    """
    v = np.asarray(values, dtype=np.float64)
    mask = ~np.isnan(v)
    if not mask.any():
        return float("nan"), float("nan"), float("nan")
    mean = float(v[mask].mean())
    seed_means = np.array([row[~np.isnan(row)].mean() for row in v if (~np.isnan(row)).any()])
    n = seed_means.shape[0]
    if n < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * float(seed_means.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def hierarchical_bootstrap_ci(
    values: np.ndarray, *, bootstrap_samples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of a (n_seeds, n_targets) array with NaN: nested percentile bootstrap.

    Each resample draws n_targets targets with replacement, then for each drawn target n_seeds seeds with
    replacement (independently per target), and takes the mean of the drawn non-NaN values. NaN CI with a
    single value.
    """
    v = np.asarray(values, dtype=np.float64)
    mask = ~np.isnan(v)
    if not mask.any():
        return float("nan"), float("nan"), float("nan")
    mean = float(v[mask].mean())
    v = v[np.ix_(mask.any(axis=1), mask.any(axis=0))]
    n_s, n_t = v.shape
    if n_s * n_t < 2:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    b = int(bootstrap_samples)
    targets = rng.integers(0, n_t, size=(b, n_t))
    seeds = rng.integers(0, n_s, size=(b, n_t, n_s))
    drawn = v[seeds, targets[:, :, None]]  # (b, n_t, n_s)
    ok = ~np.isnan(drawn)
    den = ok.sum(axis=(1, 2))
    stat = np.where(ok, drawn, 0.0).sum(axis=(1, 2))[den > 0] / den[den > 0]
    alpha = 1.0 - confidence
    low, high = np.quantile(stat, [alpha / 2, 1 - alpha / 2])
    return mean, float(low), float(high)


def mean_ci(
    values: np.ndarray,
    method: str,
    *,
    bootstrap_samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    resample_targets: bool = False,
) -> tuple[float, float, float]:
    """Dispatch on ``method`` ("t", "bootstrap", "hierarchical")."""
    if method == "t":
        return t_mean_ci(values, confidence=confidence)
    if method == "hierarchical":
        return hierarchical_bootstrap_ci(
            values, bootstrap_samples=bootstrap_samples, confidence=confidence, seed=seed
        )
    if method == "bootstrap":
        return bootstrap_mean_ci(
            values,
            bootstrap_samples=bootstrap_samples,
            confidence=confidence,
            seed=seed,
            resample_targets=resample_targets,
        )
    raise ValueError(f"ci_method must be 't', 'bootstrap' or 'hierarchical', got {method!r}")
