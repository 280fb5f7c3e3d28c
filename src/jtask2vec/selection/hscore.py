"""H-score (Bao et al., "An information-theoretic approach to transferability in task transfer learning",
ICIP 2019): how much of the feature covariance the class-conditional means explain.

For features ``f`` (N × D) and labels ``y`` (N,),

    H(f) = tr( cov(f)⁻¹ · cov(E[f | y]) ),

where ``E[f | y]`` replaces every example by the mean feature vector of its class and both covariances are
the sample covariances over the N examples (``np.cov``: divisor N − 1; the factor cancels). ``cov(f)⁻¹`` is
the Moore–Penrose pseudo-inverse (as in tllib's ``h_score``), so rank-deficient features (N ≤ D, constant
dimensions) are allowed. Computed without forming either N × D class-mean matrix: cov(E[f|y]) has rank
≤ C − 1, so the trace is Σ_c n_c (μ_c − μ)ᵀ cov(f)⁺ (μ_c − μ) / (N − 1) (see :func:`trace_inverse_times`).

Range: 0 ≤ H ≤ min(C − 1, rank cov(f)), since cov(f) = cov(E[f|y]) + (within-class covariance) ⪰
cov(E[f|y]). H = 0 when every class has the same mean; H = C − 1 when every example sits at its class mean
(no within-class spread). Higher = better features for the target labels.
"""

from __future__ import annotations

import numpy as np
from numpy.linalg import LinAlgError
from scipy.linalg import cho_factor, cho_solve

from jtask2vec.selection._inputs import check_features, check_labels


def between_class_deviations(
    f: np.ndarray, codes: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(μ_c − μ)`` (C, D) and class counts n_c (C,): cov(E[f|y]) ∝ Σ_c n_c (μ_c − μ)(μ_c − μ)ᵀ."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    sums = class_sums(f, codes, n_classes)
    return sums / counts[:, None] - f.mean(axis=0), counts


def class_sums(x: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, D) per-class sums of the rows of ``x`` (N, D): one (C × N)(N × D) product of the one-hot labels
    (much faster than ``np.add.at``)."""
    onehot = np.zeros((n_classes, x.shape[0]))
    onehot[codes, np.arange(x.shape[0])] = 1.0
    return onehot @ x


def trace_inverse_times(cov: np.ndarray, deviations: np.ndarray, counts: np.ndarray, rcond: float) -> float:
    """``tr(cov⁺ · Σ_c n_c d_c d_cᵀ) = Σ_c n_c d_cᵀ cov⁺ d_c`` for a symmetric PSD ``cov`` (D, D).

    A Cholesky solve when ``cov`` is well conditioned (squared ratio of the factor's extreme diagonal entries
    above 1e-10, a cheap lower bound on 1/cond), else the eigen-decomposition pseudo-inverse with eigenvalues
    below ``rcond · λ_max`` treated as zero (``np.linalg.pinv``'s rule).
    """
    try:
        factor = cho_factor(cov, lower=True, check_finite=False)
        diag = np.abs(np.diag(factor[0]))
        if diag.min() ** 2 > 1e-10 * diag.max() ** 2:
            solved = cho_solve(factor, deviations.T, check_finite=False)  # (D, C)
            return float(np.sum(counts * np.einsum("cd,dc->c", deviations, solved)))
    except LinAlgError:
        pass
    lam, vec = np.linalg.eigh(cov)
    keep = lam > rcond * max(float(lam.max()), 0.0)
    proj = deviations @ vec[:, keep]  # (C, r)
    return float(np.sum(counts * np.sum(proj * proj / lam[keep], axis=1)))


def hscore(features: np.ndarray, labels: np.ndarray, *, rcond: float = 1e-15) -> float:
    """H-score of ``features`` (N, D) for ``labels`` (N,); float64. Higher = better."""
    f = check_features("hscore", features)
    codes, n_classes = check_labels("hscore", labels, f.shape[0])
    centred = f - f.mean(axis=0)
    cov_f = centred.T @ centred  # the common divisor N − 1 of both covariances cancels
    deviations, counts = between_class_deviations(f, codes, n_classes)
    return trace_inverse_times(cov_f, deviations, counts, rcond)
