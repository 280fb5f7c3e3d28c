"""Does a selector rank the sources right? Metrics per target, bootstrap CIs over seeds, baseline tests.

Inputs and outputs are the long tables of :mod:`jtask2vec.results` (``scores``, ``transfer`` in;
``evaluation``, ``per_target``, ``baseline_tests`` out).

**Candidates.** For a (selector, seed, target), the candidate sources are those with both a score and a
transfer accuracy on that target for that seed; the no-transfer baseline (``source == BASELINE_SOURCE``)
and the target itself are never candidates. A selector whose scores carry a single seed for a target
(a seed-independent selector such as ``datasize``) is compared with the transfer results of every seed;
otherwise scores and transfer results are paired by seed and unpaired seeds are skipped.

**Metrics** (one value per selector, seed, target; ``acc`` = transfer accuracy of each candidate):

- ``n_sources``: number of candidates.
- ``top1_hit``: 1 if the top-scored source is among the best (``acc >= max(acc) - 1e-9``: ties in the
  outcome all count as best), else 0. Ties in the *score* at the top: the expected value over a uniformly
  random tie-break, i.e. the fraction of the top-scored sources that are among the best.
- ``regret@k``: ``max(acc) − max(acc over the k top-scored sources)`` in accuracy units (0 = perfect);
  k is capped at the number of candidates; ties in the score straddling the k-th place: the expected value
  over a uniformly random tie-break (exact, by counting subsets).
- ``ndcg`` and ``ndcg@k``: normalised discounted cumulative gain of the ranking, with gains the accuracies
  min-max scaled per (target, seed) to [0, 1] (worst candidate 0, best 1), so the metric spans its range
  even when all accuracies are ≈ 0.9 (raw accuracies would make every ranking score ≈ 1). Computed by
  :func:`sklearn.metrics.ndcg_score` with ``ignore_ties=False``, which averages the gains of tied scores —
  the expected DCG over random tie-breaks. NaN when all candidates have the same accuracy.
- ``spearman``, ``kendall``: rank correlation (Spearman ρ with average ranks, Kendall τ-b) between score and
  accuracy over the candidates. Within one (target, seed) the gain is accuracy minus a constant, so these
  are also the correlations with the gain. NaN when scores or accuracies are constant.
- ``spearman_gain_pooled``, ``kendall_gain_pooled``: the same between score and *gain* over all
  (source, target) pairs of one seed (``target == POOLED``): do higher scores mean bigger gains across
  targets? (Only meaningful for selectors whose scores are comparable across targets.)

Metrics that cannot be computed (fewer than 2 candidates, constant inputs) are NaN, skipped in the
averages and counted in the ``n_nan`` column of ``evaluation``.

**Random reference.** ``random:expected`` gives, for every (seed, target) of the transfer grid, the exact
expected value of each metric under a uniformly random ranking of all candidates: it is the evaluation of
an all-tied score (top-1 hit = #best / n, exact expected regret and NDCG), with the correlations set to
their expectation 0 (NaN when the accuracies are constant).

**Aggregation.** For each (selector, metric) the mean is taken over all non-NaN (seed, target) values.
The confidence interval is a percentile bootstrap over seeds: seeds are resampled with replacement (all of
a seed's targets together) and the mean recomputed. With ``resample_targets=True`` targets are resampled as
well (a two-way bootstrap: the CI then also covers which tasks happened to be targets). With a single seed
and no target resampling no CI can be formed: ``ci_low``/``ci_high`` are NaN.

Caveat, measured (values ~ N(0.5, 0.1²), 4 targets, 400 replications): the actual coverage of the nominal
95% percentile bootstrap over n seeds is 50% (n = 2), 74% (n = 3), 81% (n = 5), 89% (n = 10) — with the
usual 2–5 seeds it is much too narrow (few distinct resamples, plug-in variance). ``ci_method="t"`` gives
instead a Student-t interval over the per-seed means (``mean ± t_{n−1} · sd(seed means) / √n``), whose
coverage there is 96%, 95%, 94%, 95%. The bootstrap stays the default (it is what the study specifies, makes
no normality assumption and supports ``resample_targets``); prefer ``"t"`` with fewer than ~10 seeds. The
``ci_method`` column of ``evaluation`` says which was used.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import ndcg_score

from jtask2vec.errors import DataError
from jtask2vec.results import BASELINE_SOURCE, TABLE_COLUMNS

RANDOM_EXPECTED = "random:expected"
POOLED = "(all)"
BEST_ATOL = 1e-9  # accuracies within this of the best count as best


# ---- metrics of one ranking ------------------------------------------------------------------------------


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


def top1_hit(scores: Sequence[float], values: Sequence[float]) -> float:
    """Fraction of the top-scored items (a tie group) whose value is among the best (expected hit)."""
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    top = s == s.max()
    return float(_best_mask(v)[top].mean())


def regret_at_k(scores: Sequence[float], values: Sequence[float], k: int) -> float:
    """``max(values) − E[max of values over the k top-scored]`` (k capped at the number of items)."""
    return float(np.max(values)) - expected_topk_max(scores, values, k)


def minmax_gains(values: Sequence[float]) -> np.ndarray | None:
    """``(v − min v) / (max v − min v)``; None when all values are equal."""
    v = np.asarray(values, dtype=np.float64)
    span = float(v.max() - v.min())
    return None if span <= 0 else (v - v.min()) / span


def ndcg(scores: Sequence[float], values: Sequence[float], k: int | None = None) -> float:
    """NDCG(@k) with min-max scaled gains; tied scores share their mean gain (sklearn). NaN if undefined."""
    gains = minmax_gains(values)
    if gains is None or len(gains) < 2:
        return float("nan")
    return float(
        ndcg_score(gains[None, :], np.asarray(scores, dtype=np.float64)[None, :], k=k, ignore_ties=False)
    )


def rank_correlations(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(Spearman ρ, Kendall τ-b) between x and y; NaN for fewer than 2 points or a constant input."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape[0] < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = stats.spearmanr(x, y).statistic
        tau = stats.kendalltau(x, y).statistic
    return float(rho), float(tau)


def ranking_metrics(
    scores: Sequence[float], accuracies: Sequence[float], regret_ks: Sequence[int] = (1, 3)
) -> dict[str, float]:
    """All per-target metrics of one ranking (see the module docstring); NaN where undefined."""
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    n = s.shape[0]
    out: dict[str, float] = {"n_sources": float(n)}
    nan = float("nan")
    defined = n >= 2
    out["top1_hit"] = top1_hit(s, a) if defined else nan
    for k in regret_ks:
        out[f"regret@{k}"] = regret_at_k(s, a, k) if defined else nan
    out["ndcg"] = ndcg(s, a) if defined else nan
    for k in regret_ks:
        out[f"ndcg@{k}"] = ndcg(s, a, k) if defined else nan
    out["spearman"], out["kendall"] = rank_correlations(s, a)
    return out


def random_expected_metrics(
    accuracies: Sequence[float], regret_ks: Sequence[int] = (1, 3)
) -> dict[str, float]:
    """Exact expectation of :func:`ranking_metrics` under a uniformly random ranking of the candidates."""
    a = np.asarray(accuracies, dtype=np.float64)
    out = ranking_metrics(np.zeros_like(a), a, regret_ks)  # all tied = uniformly random tie-break
    zero = 0.0 if a.shape[0] >= 2 and np.ptp(a) > 0 else float("nan")
    out["spearman"] = out["kendall"] = zero
    return out


# ---- tables ---------------------------------------------------------------------------------------------


def _check_columns(table: pd.DataFrame, name: str) -> None:
    missing = [c for c in TABLE_COLUMNS[name] if c not in table.columns]
    if missing:
        raise DataError(f"{name} table: missing columns {missing}")


def _candidate_transfer(transfer: pd.DataFrame) -> pd.DataFrame:
    """Transfer rows that are candidate sources (no baseline, no self-transfer), duplicates rejected."""
    _check_columns(transfer, "transfer")
    t = transfer[(transfer["source"] != BASELINE_SOURCE) & (transfer["source"] != transfer["target"])]
    t = t.dropna(subset=["accuracy"])
    dup = t.duplicated(subset=["source", "target", "seed"])
    if dup.any():
        row = t[dup].iloc[0]
        raise DataError(
            f"transfer table: duplicate result for source {row['source']!r}, target {row['target']!r}, "
            f"seed {row['seed']}"
        )
    return t


def _selector_scores(scores: pd.DataFrame) -> pd.DataFrame:
    _check_columns(scores, "scores")
    s = scores.dropna(subset=["score"])
    dup = s.duplicated(subset=["selector", "seed", "target", "source"])
    if dup.any():
        row = s[dup].iloc[0]
        raise DataError(
            f"scores table: duplicate score for selector {row['selector']!r}, seed {row['seed']}, "
            f"target {row['target']!r}, source {row['source']!r}"
        )
    return s


def _paired(sel: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    """Join one selector's scores with the candidates' transfer results (see 'Candidates' above)."""
    parts = []
    for target, sel_t in sel.groupby("target", sort=True):
        cand_t = cand[cand["target"] == target]
        score_seeds = set(sel_t["seed"].tolist())
        for seed in sorted(set(cand_t["seed"].tolist())):
            if seed in score_seeds:
                use = sel_t[sel_t["seed"] == seed]
            elif len(score_seeds) == 1:
                use = sel_t
            else:
                continue
            joined = cand_t[cand_t["seed"] == seed].merge(
                use[["source", "score"]], on="source", how="inner", validate="one_to_one"
            )
            parts.append(joined)
    cols = [*TABLE_COLUMNS["transfer"], "score"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def _per_target_rows(
    selector: str, joined: pd.DataFrame, regret_ks: Sequence[int], expected: bool
) -> list[tuple[str, int, str, str, float]]:
    rows = []
    for (seed, target), g in joined.groupby(["seed", "target"], sort=True):
        g = g.sort_values("source")
        acc = g["accuracy"].to_numpy(dtype=np.float64)
        metrics = (
            random_expected_metrics(acc, regret_ks)
            if expected
            else ranking_metrics(g["score"].to_numpy(dtype=np.float64), acc, regret_ks)
        )
        rows.extend((selector, int(seed), str(target), m, float(v)) for m, v in metrics.items())
    for seed, g in joined.groupby("seed", sort=True):
        g = g.dropna(subset=["gain"])
        gain = g["gain"].to_numpy(dtype=np.float64)
        if expected:
            zero = 0.0 if gain.shape[0] >= 2 and np.ptp(gain) > 0 else float("nan")
            rho = tau = zero
        else:
            rho, tau = rank_correlations(g["score"].to_numpy(dtype=np.float64), gain)
        rows.append((selector, int(seed), POOLED, "spearman_gain_pooled", rho))
        rows.append((selector, int(seed), POOLED, "kendall_gain_pooled", tau))
    return rows


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


def evaluate_selectors(
    scores: pd.DataFrame,
    transfer: pd.DataFrame,
    *,
    regret_ks: Sequence[int] = (1, 3),
    bootstrap_samples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    resample_targets: bool = False,
    ci_method: Literal["bootstrap", "t"] = "bootstrap",
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
    if ci_method not in ("bootstrap", "t"):
        raise ValueError(f"ci_method must be 'bootstrap' or 't', got {ci_method!r}")
    if ci_method == "t" and resample_targets:
        raise ValueError("resample_targets needs ci_method='bootstrap'")
    cand = _candidate_transfer(transfer)
    sel_scores = _selector_scores(scores)
    rows: list[tuple[str, int, str, str, float]] = []
    for selector, sel in sel_scores.groupby("selector", sort=True):
        rows.extend(_per_target_rows(str(selector), _paired(sel, cand), regret_ks, expected=False))
    if random_reference and not cand.empty:
        joined = cand.assign(score=0.0)
        rows.extend(_per_target_rows(RANDOM_EXPECTED, joined, regret_ks, expected=True))
    per_target = pd.DataFrame(rows, columns=TABLE_COLUMNS["per_target"])

    out = []
    metric_order = {m: i for i, m in enumerate(dict.fromkeys(per_target["metric"]))}
    for (selector, metric), g in per_target.groupby(["selector", "metric"], sort=False):
        wide = g.pivot(index="seed", columns="target", values="value")
        if ci_method == "t":
            mean, low, high = t_mean_ci(wide.to_numpy(dtype=np.float64), confidence=confidence)
        else:
            mean, low, high = bootstrap_mean_ci(
                wide.to_numpy(dtype=np.float64),
                bootstrap_samples=bootstrap_samples,
                confidence=confidence,
                seed=seed,
                resample_targets=resample_targets,
            )
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
    cand = _candidate_transfer(transfer).dropna(subset=["gain"])
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
        else:
            p_value = 0.0 if mean > 0 else 1.0
        rows.append((target, best, mean, low, high, bool(low > 0), n, m, p_value, low_adj, bool(low_adj > 0)))
    return pd.DataFrame(rows, columns=columns)
