"""Regularised (shrinkage) H-score (Ibrahim, Ponomareva & Mazumder, "Newer is not always better: rethinking
transferability metrics, their peculiarities, stability and performance", ECML-PKDD 2022).

The H-score's ``cov(f)⁻¹`` is unstable when D is large against N. With the Ledoit–Wolf shrinkage estimate

    cov_α(f) = (1 − α) S + α (tr S / D) I,        S = (1/N) Σᵢ (fᵢ − f̄)(fᵢ − f̄)ᵀ,

with α chosen by Ledoit & Wolf's (2004) closed-form rule (the estimate of ``sklearn.covariance.LedoitWolf``)

    μ = tr S / D,   δ² = ‖S − μI‖²_F / D,   β² = (1/N²) Σᵢ ‖xᵢxᵢᵀ − S‖²_F / D,   α = min(β², δ²) / δ²

(α = 0 when δ² = 0 or D = 1), the score is

    H_α(f) = tr( cov_α(f)⁻¹ · (1 − α) cov(E[f | y]) ).

Deliberate deviation: ``cov(E[f|y])`` uses the same divisor N as ``S`` (reference implementations use
``np.cov``, divisor N − 1, i.e. a constant factor N/(N − 1) on every score; rankings are unchanged). With
α = 0 (no shrinkage) the score equals :func:`~jtask2vec.selection.hscore.hscore` exactly. Range as H-score:
0 when all classes share their mean. Higher = better.

The shrunk covariance is inverted as the H-score's is
(:func:`~jtask2vec.selection.hscore.trace_inverse_times`: one eigen-decomposition, ridge
τ = (D · ε₃₂)² · ‖F‖²_F / N of float32 rounding); with α > 0 its eigenvalues are ≥ α tr S / D and the
ridge changes the score by < τ / (α tr S / D) relative. With α ≈ 0 (N ≫ D) a LayerNorm-ed feature's near-null
direction would otherwise be weighted by the reciprocal of its rounding noise; a shrunk covariance with
eigenvalues at or below τ is flagged ``rank-deficient``.

Computed from one covariance product XᵀX of the centred data X (N × D) and an eigen-decomposition: with
``xᵢ`` the rows of X, Σᵢ ‖xᵢxᵢᵀ − S‖²_F = Σᵢ ‖xᵢ‖⁴ − N ‖S‖²_F, so β² needs only the row norms (sklearn's
``LedoitWolf`` forms a second D × D product of the squared data and a pseudo-inverse it does not need
here). Same value up to float rounding.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.selection._inputs import check_features, check_labels
from jtask2vec.selection.hscore import (
    RegularisedTrace,
    between_class_deviations,
    rounding_floor,
    trace_inverse_times,
)


def ledoit_wolf(f: np.ndarray) -> tuple[np.ndarray, float]:
    """``((1 − α) S + α μ I, α)``: the Ledoit–Wolf shrunk covariance (D, D) of ``f`` (N, D) and its α."""
    n, d = f.shape
    x = f - f.mean(axis=0)
    s = x.T @ x / n
    mu = float(np.trace(s)) / d
    s_sq = float(np.sum(s * s))  # ‖S‖²_F
    off = s.copy()
    off.flat[:: d + 1] -= mu
    delta = float(np.sum(off * off)) / d  # ‖S − μI‖²_F / D, without the cancellation of ‖S‖² − Dμ²
    row_sq = np.einsum("ij,ij->i", x, x)
    beta = (float(row_sq @ row_sq) / n - s_sq) / (d * n)
    alpha = 0.0 if d == 1 or delta <= 0.0 else min(max(beta, 0.0), delta) / delta
    shrunk = (1.0 - alpha) * s
    shrunk.flat[:: d + 1] += alpha * mu
    return shrunk, alpha


def shrinkage_hscore_fit(features: np.ndarray, labels: np.ndarray) -> RegularisedTrace:
    """Shrinkage H-score of ``features`` (N, D) for ``labels`` (N,) with the shrunk covariance's rank."""
    f = check_features("hscore-shrinkage", features)
    codes, n_classes = check_labels("hscore-shrinkage", labels, f.shape[0])
    shrunk, alpha = ledoit_wolf(f)
    deviations, counts = between_class_deviations(f, codes, n_classes)
    # tr(cov_α⁻¹ (1 − α) cov_g) with cov_g = Σ_c n_c d_c d_cᵀ / N
    fit = trace_inverse_times(shrunk, deviations, counts / f.shape[0], rounding_floor(f) / f.shape[0])
    return RegularisedTrace((1.0 - alpha) * fit.value, fit.rank, fit.dim)


def shrinkage_hscore(features: np.ndarray, labels: np.ndarray) -> float:
    """Shrinkage H-score of ``features`` (N, D) for ``labels`` (N,); float64. Higher = better."""
    return shrinkage_hscore_fit(features, labels).value
