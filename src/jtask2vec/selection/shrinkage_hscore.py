"""Regularised (shrinkage) H-score (Ibrahim, Ponomareva & Mazumder, "Newer is not always better: rethinking
transferability metrics, their peculiarities, stability and performance", ECML-PKDD 2022).

The H-score's ``cov(f)⁻¹`` is unstable when D is large against N. With the Ledoit–Wolf shrinkage estimate

    cov_α(f) = (1 − α) S + α (tr S / D) I,        S = (1/N) Σᵢ (fᵢ − f̄)(fᵢ − f̄)ᵀ,

(``sklearn.covariance.LedoitWolf``, α chosen by its closed-form rule), the score is

    H_α(f) = tr( cov_α(f)⁻¹ · (1 − α) cov(E[f | y]) ).

Deliberate deviation: ``cov(E[f|y])`` uses the same divisor N as ``S`` (reference implementations use
``np.cov``, divisor N − 1, i.e. a constant factor N/(N − 1) on every score; rankings are unchanged). With
α = 0 (no shrinkage) the score equals :func:`~jtask2vec.selection.hscore.hscore` exactly. Range as H-score:
0 when all classes share their mean. Higher = better.
"""

from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

from jtask2vec.selection._inputs import check_features, check_labels
from jtask2vec.selection.hscore import between_class_deviations, trace_inverse_times


def shrinkage_hscore(features: np.ndarray, labels: np.ndarray) -> float:
    """Shrinkage H-score of ``features`` (N, D) for ``labels`` (N,); float64. Higher = better."""
    f = check_features("hscore-shrinkage", features)
    codes, n_classes = check_labels("hscore-shrinkage", labels, f.shape[0])
    lw = LedoitWolf(assume_centered=False).fit(f)
    alpha = float(lw.shrinkage_)
    deviations, counts = between_class_deviations(f, codes, n_classes)
    # tr(cov_α⁻¹ (1 − α) cov_g) with cov_g = Σ_c n_c d_c d_cᵀ / N
    return (1.0 - alpha) * trace_inverse_times(lw.covariance_, deviations, counts / f.shape[0], 1e-15)
