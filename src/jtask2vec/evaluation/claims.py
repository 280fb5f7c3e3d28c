"""The report's claims, decided by tests over targets: the target is the unit of inference.

The question a user asks generalises over targets ("does this selector pick good sources for tasks like
these?"), so every claim here is a test whose units are targets; seeds only enter through each target's
mean (``per_target`` values averaged over seeds within a target). Seed-to-seed spread is *stability*, not
evidence, and is never used to call a difference.

Tests (in :mod:`jtask2vec.evaluation.permutation`; all exact for small samples, none can give p = 0):

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
measured by simulation in ``tests/evaluation/test_interval_coverage.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from jtask2vec.evaluation.comparisons import holm, lower_is_better
from jtask2vec.evaluation.permutation import (
    EXACT_MAX_RELABELLINGS,
    EXACT_MAX_TARGETS,
    MONTE_CARLO_FLIPS,
    FriedmanResult,
    friedman_nemenyi,
    sign_flip_maxt,
    target_interval,
    target_table,
    unpaired_permutation,
)
from jtask2vec.evaluation.rows import POOLED

RANDOM_EXPECTED = "random:expected"
TASK2VEC_PREFIX = "task2vec:"
_TOL = 1e-12  # means within this of each other tie

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


__all__ = [
    "EXACT_MAX_RELABELLINGS",
    "EXACT_MAX_TARGETS",
    "MONTE_CARLO_FLIPS",
    "RANDOM_EXPECTED",
    "Claim",
    "FriedmanResult",
    "HeadlineClaims",
    "distances_in",
    "friedman_nemenyi",
    "headline_claims",
    "metric_table",
    "metric_tables",
    "run_claims",
    "runs_difference",
    "sign_flip_maxt",
    "target_interval",
    "target_table",
    "unpaired_permutation",
    "versus_chance",
    "versus_selectors",
]
