"""Paired comparisons between selectors, statistical ties among the sources, best transfer vs no transfer.

**Paired comparisons** (:func:`paired_comparisons`). "Selector A beats selector B on metric m": the
per-(seed, target) differences ``m_A − m_B`` are paired on the same transfer results; each target's
differences are averaged over its seeds, and the targets are the units of a one-sample Student t interval and
two-sided t-test (``scipy.stats.ttest_1samp``) of the mean difference — the question is whether A beats B on
targets like these, and seed noise enters through each target's mean. With a single target the seeds are
the units instead. The p-values of all comparisons made together are Holm-adjusted (:func:`holm`); a
comparison is called (``A better`` / ``B better``) when its adjusted p-value is below 1 − confidence, else
``not distinguishable``.

**Statistical ties with the best source** (:func:`tied_with_best`). The "best source" of a target often
wins by a test example or two. Per target, the best source b is the one with the highest mean transfer
accuracy over seeds (ties: by name); another source s is *tied with the best* unless a one-sided paired
t-test over seeds of ``acc_b − acc_s`` (same seed, H1: mean > 0) rejects at level 1 − confidence. With a
single seed (no test possible) only exact ties (within 1e-9) count; when the differences are constant
over seeds (no t-test), the exact one-sided sign-flip p ``1/2^n`` decides (:func:`constant_difference_p`):
one more test example right on both of 2 seeds is a tie, not a separation. No multiplicity correction:
each source is tested on its own, which errs towards calling fewer ties.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from jtask2vec.evaluation.intervals import bootstrap_mean_ci
from jtask2vec.evaluation.metrics import BEST_ATOL
from jtask2vec.evaluation.rows import candidate_transfer
from jtask2vec.results import TABLE_COLUMNS

LOWER_IS_BETTER = ("regret", "robs", "tror")
COMPARISON_COLUMNS = [
    "metric", "selector_a", "selector_b", "mean_diff", "ci_low", "ci_high", "n_units", "unit", "p_value",
    "p_holm", "verdict",
]  # fmt: skip
TIED_COLUMNS = ["target", "best_source", "n_sources", "n_tied", "tied_sources", "n_seeds", "separable"]


def lower_is_better(metric: str) -> bool:
    return metric.lower().startswith(LOWER_IS_BETTER)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values: ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``; NaN kept."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.shape[0]
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for j, i in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[i]))
        out[i] = running
    return out


def constant_difference_p(mean: float, n: int, *, two_sided: bool) -> float:
    """p of a difference that is the same on all ``n`` units, where a t-test is undefined: the exact
    sign-flip p (only the all-same-sign vectors are as extreme: ``2/2^n`` two-sided, ``1/2^n`` one-sided
    for a positive difference), 1 for a zero (or, one-sided, negative) difference. Never 0."""
    if abs(mean) <= BEST_ATOL or (not two_sided and mean < 0):
        return 1.0
    return min(1.0, (2.0 if two_sided else 1.0) / 2.0**n)


def _t_test(units: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    """(mean, ci_low, ci_high, two-sided p) of a one-sample t over ``units``; NaN where undefined."""
    n = units.shape[0]
    mean = float(units.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan"), float("nan")
    sd = float(units.std(ddof=1))
    if sd == 0:  # a constant difference: the exact sign-flip p, never 0
        return mean, mean, mean, constant_difference_p(mean, n, two_sided=True)
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    p = float(stats.ttest_1samp(units, 0.0).pvalue)
    return mean, mean - half, mean + half, p


def paired_comparisons(
    per_target: pd.DataFrame,
    pairs: Iterable[tuple[str, str]],
    metrics: Sequence[str],
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per (metric, A, B): the paired mean difference A − B, its t interval and Holm-adjusted p.

    ``per_target``: the long table of :func:`jtask2vec.evaluation.evaluate_selectors`. The verdict says
    which selector is better (direction from the metric: regret, ROBS and TROR are lower-is-better).
    """
    rows = []
    pt = per_target[per_target["target"].astype(str) != "(all)"]
    for metric in metrics:
        m = pt[pt["metric"] == metric]
        for a, b in pairs:
            wide = (
                m[m["selector"].isin([a, b])]
                .pivot_table(index=["seed", "target"], columns="selector", values="value", aggfunc="first")
                .reindex(columns=[a, b])
                .dropna()
            )
            diff = (wide[a] - wide[b]).rename("d").reset_index()
            by_target = diff.groupby("target")["d"].mean().to_numpy(dtype=np.float64)
            unit = "target"
            units = by_target
            if by_target.shape[0] < 2:
                unit, units = "seed", diff.groupby("seed")["d"].mean().to_numpy(dtype=np.float64)
            mean, low, high, p = _t_test(units, confidence)
            rows.append([metric, a, b, mean, low, high, int(units.shape[0]), unit, p])
    table = pd.DataFrame(rows, columns=COMPARISON_COLUMNS[:-2])
    table["p_holm"] = holm(table["p_value"].to_numpy()) if len(table) else []
    alpha = 1 - confidence
    verdicts = []
    for r in table.itertuples(index=False):
        if np.isnan(r.p_holm) or r.p_holm >= alpha:
            verdicts.append("not distinguishable")
            continue
        a_better = (r.mean_diff < 0) if lower_is_better(r.metric) else (r.mean_diff > 0)
        verdicts.append(f"{r.selector_a if a_better else r.selector_b} better")
    table["verdict"] = verdicts
    return table


def tied_with_best(transfer: pd.DataFrame, *, confidence: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """``(summary, tied)``: per target the best source, how many candidates are statistically tied with
    it (itself included) and whether the grid separates the sources at all (``separable``: some source is
    significantly worse than the best); ``tied[target]`` is the set of tied sources."""
    cand = candidate_transfer(transfer)
    alpha = 1 - confidence
    rows, tied = [], {}
    for target, g in cand.groupby("target", sort=True):
        wide = g.pivot(index="seed", columns="source", values="accuracy")
        means = wide.mean()
        best = sorted(means.index[means >= means.max() - 1e-15])[0]
        same = {best}
        for s in wide.columns:
            if s == best:
                continue
            d = (wide[best] - wide[s]).dropna().to_numpy(dtype=np.float64)
            if d.shape[0] < 2:
                is_tied = d.shape[0] > 0 and float(d.mean()) <= BEST_ATOL
            elif float(d.std(ddof=1)) == 0:
                is_tied = constant_difference_p(float(d.mean()), d.shape[0], two_sided=False) >= alpha
            else:
                is_tied = float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue) >= alpha
            if is_tied:
                same.add(s)
        tied[str(target)] = same
        n_src = int(wide.shape[1])
        rows.append(
            (
                str(target),
                best,
                n_src,
                len(same),
                ", ".join(sorted(same)),
                int(wide.shape[0]),
                len(same) < n_src,
            )
        )
    return pd.DataFrame(rows, columns=TIED_COLUMNS), tied


# ---- does the best transfer beat no transfer? ------------------------------------------------------------


def baseline_tests(
    transfer: pd.DataFrame,
    *,
    confidence: float = 0.95,
    bootstrap_samples: int = 2000,
    seed: int = 0,
    method: Literal["t", "bootstrap"] = "t",
) -> pd.DataFrame:
    """Per target: the source with the best mean gain over seeds, and whether its gain is > 0 beyond noise.

    ``gain`` (accuracy − the no-transfer baseline's accuracy, same target and seed) is paired by seed, so
    the per-seed gains are the paired differences. ``ci_low``/``ci_high``: a ``confidence`` interval of the
    mean gain over seeds — Student t (``mean ± t_{n−1} · sd / √n``, default: better calibrated than a
    percentile bootstrap with the usual 3–5 seeds) or percentile bootstrap over seeds. ``beats_baseline``:
    ``ci_low > 0``; None (cannot be judged) with fewer than 2 seeds.

    Extra columns: ``n_seeds``, ``n_sources``, ``p_value`` (one-sided one-sample t-test, H1: mean gain > 0)
    and ``ci_low_adjusted``/``beats_baseline_adjusted``: the t bound at confidence 1 − (1 − confidence)/
    n_sources (Bonferroni), which accounts for the best source being picked after seeing all of them (the
    unadjusted test is optimistic: the largest of several noisy means is biased upwards).
    """
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    cand = candidate_transfer(transfer).dropna(subset=["gain"])
    columns = [
        *TABLE_COLUMNS["baseline_tests"],
        "n_seeds",
        "n_sources",
        "p_value",
        "ci_low_adjusted",
        "beats_baseline_adjusted",
    ]
    rows = []
    nan = float("nan")
    for target, g in cand.groupby("target", sort=True):
        means = g.groupby("source")["gain"].mean()
        best_value = means.max()
        best = sorted(means.index[means == best_value])[0]
        gains = g.loc[g["source"] == best, "gain"].to_numpy(dtype=np.float64)
        n, m = gains.shape[0], means.shape[0]
        mean = float(gains.mean())
        if n < 2:
            rows.append((target, best, mean, nan, nan, None, n, m, nan, nan, None))
            continue
        sd = float(gains.std(ddof=1))
        se = sd / math.sqrt(n)
        if method == "t":
            half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * se
            low, high = mean - half, mean + half
        else:
            _, low, high = bootstrap_mean_ci(
                gains[:, None], bootstrap_samples=bootstrap_samples, confidence=confidence, seed=seed
            )
        adjusted_alpha = (1 - confidence) / m
        low_adj = mean - float(stats.t.ppf(1 - adjusted_alpha / 2, n - 1)) * se
        if se > 0:
            p_value = float(stats.ttest_1samp(gains, 0.0, alternative="greater").pvalue)
            beats, beats_adj = bool(low > 0), bool(low_adj > 0)
        else:  # the same gain on every seed: the exact sign-flip p (1/2^n), never 0
            p_value = constant_difference_p(mean, n, two_sided=False)
            beats, beats_adj = p_value < (1 - confidence) / 2, p_value < adjusted_alpha / 2
        rows.append((target, best, mean, low, high, beats, n, m, p_value, low_adj, beats_adj))
    return pd.DataFrame(rows, columns=columns)
