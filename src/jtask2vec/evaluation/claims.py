"""The report's claims, decided by tests over targets: the target is the unit of inference.

The question a user asks generalises over targets ("does this selector pick good sources for tasks like
these?"), so every claim here is a test whose units are targets; seeds only enter through each target's
mean (``per_target`` values averaged over seeds within a target). Seed-to-seed spread is *stability*, not
evidence, and is never used to call a difference.

Tests (all exact for small samples, none can give p = 0):

- **Paired, sign-flip permutation** (:func:`sign_flip_maxt`): per-target differences ``d_t``; under H0
  their signs are exchangeable. Exact over all ``2^T`` sign vectors for ``T ≤ EXACT_MAX_TARGETS`` (the
  observed one included, so ``p ≥ 2^-T``), else ``MONTE_CARLO_FLIPS`` random ones with
  ``p = (1 + #{≥}) / (1 + B)``. Zero differences give p = 1, a constant difference ``c ≠ 0`` on T targets
  gives ``p = 2 / 2^T`` — never 0. Several columns (the TASK2VEC distances) are tested together by the
  single-step **max-T** rule: column j's adjusted p is ``P*(max_k |mean*_k| ≥ |mean_j|)`` with one sign
  vector flipping every column of a target, so picking the best distance after seeing the data is part of
  the test (familywise error ≤ α over the distances).
- **Unpaired permutation** (:func:`unpaired_permutation`, ``scipy.stats.permutation_test``): run A vs
  run B on different targets, difference of the means of the per-target values; exact when the number of
  relabellings is ≤ ``EXACT_MAX_RELABELLINGS``.
- **Friedman** over targets with Nemenyi's critical difference (Demšar 2006) for many selectors:
  :func:`friedman_nemenyi`.

Claims (each returns the values its sentence needs; the report renders them):

- :func:`versus_chance`: the best TASK2VEC distance against ``random:expected`` (max-T over the distances).
- :func:`versus_selectors`: the best distance against each other selector (max-T over the distances per
  comparison, then Holm over all comparisons).
- :func:`runs_difference`: run A vs run B for the distances — paired sign-flip max-T when the runs share
  at least 2 targets, else unpaired permutation with Holm over the distances.

Intervals of a mean over targets: Student t over the target means (:func:`target_interval`); coverage
measured by simulation in ``tests/test_interval_coverage.py``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from jtask2vec.evaluation.comparisons import holm, lower_is_better
from jtask2vec.evaluation.rows import POOLED

EXACT_MAX_TARGETS = 16  # 65,536 sign vectors
MONTE_CARLO_FLIPS = 10_000
EXACT_MAX_RELABELLINGS = 50_000
RANDOM_EXPECTED = "random:expected"
TASK2VEC_PREFIX = "task2vec:"
_TOL = 1e-12  # ties in the permutation statistic count as "at least as extreme"

CALLED = ("better", "worse")


def metric_table(per_target: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Targets × selectors: each selector's ``metric`` averaged over its seeds within a target (NaN where a
    selector has no value for a target); the pooled rows are left out."""
    pt = per_target[
        (per_target["metric"].astype(str) == metric) & (per_target["target"].astype(str) != POOLED)
    ]
    values = pd.to_numeric(pt["value"], errors="coerce").to_numpy(dtype=np.float64)
    ok = ~np.isnan(values)
    t_codes, targets = pd.factorize(pt["target"].astype(str).to_numpy()[ok], sort=True)
    s_codes, selectors = pd.factorize(pt["selector"].astype(str).to_numpy()[ok], sort=True)
    sums = np.zeros((len(targets), len(selectors)))
    counts = np.zeros_like(sums)
    np.add.at(sums, (t_codes, s_codes), values[ok])
    np.add.at(counts, (t_codes, s_codes), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
    return pd.DataFrame(
        means, index=pd.Index(targets, name="target"), columns=pd.Index(selectors, name="selector")
    )


def metric_tables(per_target: pd.DataFrame, metrics: Sequence[str]) -> dict[str, pd.DataFrame]:
    """``{metric: metric_table(per_target, metric)}``: the input of every claim below."""
    return {m: metric_table(per_target, m) for m in metrics}


def target_table(wide: pd.DataFrame, selectors: Sequence[str]) -> pd.DataFrame:
    """The ``selectors`` columns of a :func:`metric_table`, only targets where every one has a value (rows
    are paired)."""
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


def _direction(mean: float, metric: str) -> str:
    better = mean < 0 if lower_is_better(metric) else mean > 0
    return "better" if better else "worse"


def _lead(table: pd.DataFrame, candidates: Sequence[str], metric: str) -> str:
    means = table[list(candidates)].mean()
    order = means.sort_values(ascending=lower_is_better(metric), kind="stable")
    best = order.iloc[0]
    return sorted(s for s in order.index if abs(order[s] - best) <= _TOL)[0]


@dataclass(frozen=True)
class Claim:
    """One claim over targets: ``subject`` against ``other`` on ``metric``.

    ``mean_diff``: mean over targets of subject − other (seed-averaged per target), with its t interval;
    ``p_value``: the test's p (max-T adjusted over the family the subject was picked from), ``p_adjusted``:
    after Holm over the claims made together (= ``p_value`` when alone); ``verdict``: ``better`` /
    ``worse`` (subject against other, direction from the metric) when ``p_adjusted < alpha``, else
    ``not distinguishable``; ``cannot be tested`` with fewer than 2 targets.
    """

    claim: str
    metric: str
    subject: str
    other: str
    n_targets: int
    subject_mean: float
    other_mean: float
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    p_adjusted: float
    verdict: str
    test: str

    @property
    def called(self) -> bool:
        return self.verdict in CALLED


def _verdict(mean: float, p: float, alpha: float, metric: str, n: int) -> str:
    if n < 2 or np.isnan(p):
        return "cannot be tested"
    return _direction(mean, metric) if p < alpha else "not distinguishable"


def _family_claim(
    claim: str,
    table: pd.DataFrame,
    family: Sequence[str],
    other: str,
    metric: str,
    confidence: float,
    seed: int,
) -> Claim:
    """The best of ``family`` (by mean over the targets) against ``other``, max-T over the family."""
    lead = _lead(table, family, metric)
    d = table[list(family)].to_numpy() - table[[other]].to_numpy()
    n = d.shape[0]
    means, p, exact = sign_flip_maxt(d, seed=seed)
    k = list(family).index(lead)
    low, high = target_interval(d[:, k], confidence)
    pk = float(p[k]) if n >= 2 else float("nan")
    test = f"sign-flip over {n} targets ({'exact' if exact else 'Monte Carlo'})"
    if len(family) > 1:
        test += f", max-T over {len(family)} distances"
    return Claim(
        claim=claim,
        metric=metric,
        subject=lead,
        other=other,
        n_targets=n,
        subject_mean=float(table[lead].mean()) if n else float("nan"),
        other_mean=float(table[other].mean()) if n else float("nan"),
        mean_diff=float(means[k]),
        ci_low=low,
        ci_high=high,
        p_value=pk,
        p_adjusted=pk,
        verdict=_verdict(float(means[k]), pk, 1 - confidence, metric, n),
        test=test,
    )


def distances_in(selectors: Sequence[str]) -> list[str]:
    """The TASK2VEC distances among ``selectors`` (e.g. a metric table's columns), sorted."""
    return sorted(s for s in map(str, selectors) if s.startswith(TASK2VEC_PREFIX))


def versus_chance(
    wide: pd.DataFrame,
    metric: str,
    *,
    distances: Sequence[str] | None = None,
    reference: str = RANDOM_EXPECTED,
    confidence: float = 0.95,
    seed: int = 0,
) -> Claim | None:
    """Is the best TASK2VEC distance better than chance on ``metric``, over targets? ``wide``: the metric's
    :func:`metric_table`. ``None`` when there is no distance or no ``reference`` value."""
    family = list(distances) if distances is not None else distances_in(wide.columns)
    if not family or reference not in wide.columns:
        return None
    table = target_table(wide, [*family, reference])
    if table.empty:
        return None
    return _family_claim("best distance vs chance", table, family, reference, metric, confidence, seed)


def versus_selectors(
    tables: Mapping[str, pd.DataFrame],
    metrics: Sequence[str],
    others: Sequence[str],
    *,
    distances: Sequence[str] | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[Claim]:
    """The best distance (per metric) against each selector in ``others``; Holm over all the claims.
    ``tables``: :func:`metric_tables`."""
    out = []
    for metric in metrics:
        wide = tables[metric]
        family = list(distances) if distances is not None else distances_in(wide.columns)
        for other in others if family else ():
            if other not in wide.columns:
                continue
            table = target_table(wide, [*family, other])
            if table.empty:
                continue
            out.append(
                _family_claim("best distance vs selector", table, family, other, metric, confidence, seed)
            )
    return _holm_claims(out, confidence)


def _holm_claims(claims: list[Claim], confidence: float) -> list[Claim]:
    if not claims:
        return claims
    adjusted = holm([c.p_value for c in claims])
    alpha = 1 - confidence
    return [
        replace(c, p_adjusted=float(q), verdict=_verdict(c.mean_diff, float(q), alpha, c.metric, c.n_targets))
        for c, q in zip(claims, adjusted, strict=True)
    ]


def runs_difference(
    wide_a: pd.DataFrame,
    wide_b: pd.DataFrame,
    metric: str,
    selectors: Sequence[str],
    *,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[Claim]:
    """Run B − run A for each selector on ``metric``, over targets. Paired (sign-flip, max-T over the
    selectors) on the targets both runs share when there are at least 2; otherwise unpaired permutation on
    each run's own targets with Holm over the selectors. ``subject`` is run B's value, ``other`` run A's.
    ``wide_a``/``wide_b``: the metric's :func:`metric_table` of each run."""
    alpha = 1 - confidence
    selectors = list(selectors)
    ta = target_table(wide_a, selectors)
    tb = target_table(wide_b, selectors)
    shared = ta.index.intersection(tb.index)
    paired = len(shared) >= 2
    if paired:
        xa, xb = ta.loc[shared].to_numpy(), tb.loc[shared].to_numpy()
        d = xb - xa
        means, p, exact = sign_flip_maxt(d, seed=seed)
        n = d.shape[0]
        intervals = [target_interval(d[:, k], confidence) for k in range(len(selectors))]
        test = f"sign-flip over {n} shared targets ({'exact' if exact else 'Monte Carlo'}), max-T over "
        test += f"{len(selectors)} selectors"
        claim = "run B vs run A (paired)"
    else:
        xa, xb = ta.to_numpy(), tb.to_numpy()
        means, p = unpaired_permutation(xa, xb, seed=seed)
        n = min(xa.shape[0], xb.shape[0])
        intervals = [(float("nan"), float("nan"))] * len(selectors)
        test = f"permutation over {xa.shape[0]} + {xb.shape[0]} targets, Holm over {len(selectors)} selectors"
        claim = "run B vs run A (unpaired)"
    out = []
    nan = float("nan")
    for k, sel in enumerate(selectors):
        pk = float(p[k]) if n >= 2 else nan
        out.append(
            Claim(
                claim=claim, metric=metric, subject=sel, other=sel, n_targets=n,
                subject_mean=float(xb[:, k].mean()) if xb.shape[0] else nan,
                other_mean=float(xa[:, k].mean()) if xa.shape[0] else nan,
                mean_diff=float(means[k]), ci_low=intervals[k][0], ci_high=intervals[k][1], p_value=pk,
                p_adjusted=pk, verdict=_verdict(float(means[k]), pk, alpha, metric, n), test=test,
            )
        )  # fmt: skip
    return out if paired else _holm_claims(out, confidence)


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


SELECTOR_METRICS = ("top1", "regret")  # the best distance vs every other selector: on these metrics only


@dataclass(frozen=True)
class HeadlineClaims:
    """Every claim of a run's verdict and Findings, decided over targets (one call, used by the report and
    by :mod:`jtask2vec.evaluation.power` alike).

    ``chance[metric]``: the best distance against ``random:expected``. ``selectors``: the best distance
    against every other selector (not ``random:expected``) on ``selector_metrics``, Holm over all of them.
    ``friedman[metric]``: Friedman + Nemenyi over every selector but ``random:expected``.
    """

    chance: dict[str, Claim]
    selectors: list[Claim]
    selector_metrics: list[str]
    friedman: dict[str, FriedmanResult]


def headline_claims(
    tables: Mapping[str, pd.DataFrame], metrics: Sequence[str], *, confidence: float = 0.95, seed: int = 0
) -> HeadlineClaims:
    """The claims of the verdict on the headline ``metrics`` (see :class:`HeadlineClaims`); ``tables``:
    :func:`metric_tables` of the run's ``per_target`` table."""
    chance, friedman = {}, {}
    others: list[str] = []
    for metric in metrics:
        wide = tables[metric]
        distances = distances_in(wide.columns)
        rest = [str(s) for s in wide.columns if s not in distances and s != RANDOM_EXPECTED]
        others += [s for s in rest if s not in others]
        c = versus_chance(wide, metric, distances=distances, confidence=confidence, seed=seed)
        if c is not None:
            chance[metric] = c
        f = friedman_nemenyi(wide, metric, [*distances, *rest], confidence=confidence)
        if f is not None:
            friedman[metric] = f
    chosen = [m for m in metrics if m.lower().startswith(SELECTOR_METRICS)]
    against = versus_selectors(tables, chosen, sorted(others), confidence=confidence, seed=seed)
    return HeadlineClaims(chance, against, chosen, friedman)


def run_claims(
    per_target: pd.DataFrame, metrics: Sequence[str], *, confidence: float = 0.95, seed: int = 0
) -> HeadlineClaims:
    """:func:`headline_claims` of a run's ``per_target`` table (the report's entry point)."""
    present = set(per_target["metric"].astype(str))
    metrics = [m for m in metrics if m in present]
    return headline_claims(metric_tables(per_target, metrics), metrics, confidence=confidence, seed=seed)
