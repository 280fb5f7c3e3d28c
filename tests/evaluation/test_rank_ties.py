"""Spearman and Kendall follow the tie rule of every metric: the exact expectation over a uniformly random
tie-break of the scores, checked by brute force over every tie-break."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from jtask2vec.evaluation.metrics import rank_correlations


def _brute(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean of scipy's ρ and τ-b over every distinct strict order of x consistent with x (ties broken)."""
    n = len(x)
    rhos, taus = [], []
    for perm in itertools.permutations(range(n)):
        # a tie-break: x plus a tiny offset ordering tied items by perm
        broken = x + 1e-9 * np.array(perm, dtype=float)
        rhos.append(stats.spearmanr(broken, y).statistic)
        taus.append(stats.kendalltau(broken, y).statistic)
    return float(np.mean(rhos)), float(np.mean(taus))


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1, 1, 2, 3, 3, 4], [0.1, 0.3, 0.2, 0.5, 0.4, 0.9]),  # ties in the scores
        ([1, 1, 1, 2, 2, 3], [0.1, 0.1, 0.3, 0.5, 0.2, 0.9]),  # ties in both
        ([2, 2, 2, 2, 2], [0.7, 0.8, 0.75, 0.9, 0.6]),  # constant scores: a random ranking
        ([3, 1, 2, 5, 4], [0.7, 0.5, 0.6, 0.9, 0.6]),  # no score ties: scipy's values
    ],
)
def test_rank_correlations_are_expectations_over_score_tie_breaks(x: list, y: list) -> None:
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    rho, tau = rank_correlations(x, y)
    b_rho, b_tau = _brute(x, y)
    assert abs(b_rho) > 0.1 or np.ptp(x) == 0  # a case that can tell the rules apart
    assert rho == pytest.approx(b_rho, abs=1e-12)
    assert tau == pytest.approx(b_tau, abs=1e-12)


def test_many_ties_no_longer_inflate_the_correlation() -> None:
    x, y = np.array([0, 0, 0, 0, 1.0]), np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    rho, _ = rank_correlations(x, y)
    assert rho < stats.spearmanr(x, y).statistic  # average ranks overstate it
    assert np.isnan(rank_correlations(x, np.full(5, 0.3))[0])
