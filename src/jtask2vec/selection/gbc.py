"""GBC, Gaussian Bhattacharyya coefficient (Pándy, Agostinelli, Uijlings, Ferrari & Mensink,
"Transferability estimation using Bhattacharyya class separability", CVPR 2022): how much the classes
overlap in feature space; less overlap = better features.

Each class c of the target labels is modelled by a Gaussian N(μ_c, Σ_c) fitted to the features of its
examples (``f`` is N × D). With the paper's default *diagonal* covariance Σ_c = diag(σ²_c) (per-dimension
variances, divisor n_c), the Bhattacharyya distance of classes i and j is

    D_B(i, j) = 1/8 (μᵢ − μⱼ)ᵀ Σ⁻¹ (μᵢ − μⱼ) + 1/2 ln( det Σ / √(det Σᵢ det Σⱼ) ),     Σ = (Σᵢ + Σⱼ)/2,

which for diagonal covariances is a sum over dimensions; the Bhattacharyya coefficient is
BC(i, j) = exp(−D_B(i, j)) ∈ [0, 1] and

    GBC = − Σ_{i=1}^{C} Σ_{j ≠ i} BC(i, j)          (every ordered pair, as in the paper).

GBC ∈ [−C(C − 1), 0]: 0 when the classes do not overlap at all, −C(C − 1) when all classes have the same
Gaussian. Higher = better.

Variances are floored at ``(D · ε₃₂)² · max_d mean_i f_id²`` (ε₃₂ = 2⁻²³): the features come from float32
models, so a dimension's variance below that is rounding noise, and dividing a rounding-level difference
of class means by a rounding-level variance would make the score depend on the CPU. A (nearly) constant
dimension therefore counts as identical in two classes whose means agree to float32 precision, and as
disjoint otherwise.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.selection._inputs import check_features, check_labels
from jtask2vec.selection.hscore import FEATURE_EPS, class_sums

_VAR_FLOOR = 1e-300  # the floor of all-zero features


def class_gaussians(f: np.ndarray, codes: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class means and diagonal variances (divisor n_c), each (C, D)."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)[:, None]
    means = class_sums(f, codes, n_classes) / counts
    centred = f - means[codes]
    variances = class_sums(centred * centred, codes, n_classes)
    floor = (f.shape[1] * FEATURE_EPS) ** 2 * float(np.max(np.mean(f * f, axis=0)))
    return means, np.maximum(variances / counts, max(floor, _VAR_FLOOR))


def bhattacharyya_distances(means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """(C, C) Bhattacharyya distances between diagonal Gaussians (rows of ``means``/``variances``)."""
    log_var = np.log(variances)
    pooled = (variances[:, None, :] + variances[None, :, :]) / 2  # (C, C, D)
    diff = means[:, None, :] - means[None, :, :]
    mahalanobis = np.sum(diff * diff / pooled, axis=-1) / 8
    log_term = np.sum(np.log(pooled) - (log_var[:, None, :] + log_var[None, :, :]) / 2, axis=-1) / 2
    return mahalanobis + log_term


def gbc(features: np.ndarray, labels: np.ndarray) -> float:
    """GBC of ``features`` (N, D) for ``labels`` (N,); float64 in [−C(C−1), 0]. Higher = better."""
    f = check_features("gbc", features)
    codes, n_classes = check_labels("gbc", labels, f.shape[0])
    means, variances = class_gaussians(f, codes, n_classes)
    coefficients = np.exp(-bhattacharyya_distances(means, variances))
    off = ~np.eye(n_classes, dtype=bool)
    return float(-coefficients[off].sum())
