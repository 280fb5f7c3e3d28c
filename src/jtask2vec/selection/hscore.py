"""H-score (Bao et al., "An information-theoretic approach to transferability in task transfer learning",
ICIP 2019): how much of the feature covariance the class-conditional means explain.

For features ``f`` (N × D) and labels ``y`` (N,),

    H(f) = tr( cov(f)⁻¹ · cov(E[f | y]) ),

where ``E[f | y]`` replaces every example by the mean feature vector of its class and both covariances are
the sample covariances over the N examples (``np.cov``: divisor N − 1; the factor cancels). ``cov(f)⁻¹`` is
the Moore–Penrose pseudo-inverse (as in tllib's ``h_score``), so rank-deficient features (N ≤ D, constant
dimensions) are allowed.

Range: 0 ≤ H ≤ min(C − 1, rank cov(f)), since cov(f) = cov(E[f|y]) + (within-class covariance) ⪰
cov(E[f|y]). H = 0 when every class has the same mean; H = C − 1 when every example sits at its class mean
(no within-class spread). Higher = better features for the target labels.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.selection._inputs import check_features, check_labels


def class_mean_rows(f: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """(N, D): each row replaced by the mean of its class (``codes`` in 0..C−1)."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    sums = np.zeros((n_classes, f.shape[1]))
    np.add.at(sums, codes, f)
    return (sums / counts[:, None])[codes]


def hscore(features: np.ndarray, labels: np.ndarray, *, rcond: float = 1e-15) -> float:
    """H-score of ``features`` (N, D) for ``labels`` (N,); float64. Higher = better."""
    f = check_features("hscore", features)
    codes, n_classes = check_labels("hscore", labels, f.shape[0])
    cov_f = np.cov(f, rowvar=False)
    cov_g = np.cov(class_mean_rows(f, codes, n_classes), rowvar=False)
    cov_f = np.atleast_2d(cov_f)
    cov_g = np.atleast_2d(cov_g)
    return float(np.trace(np.linalg.pinv(cov_f, rcond=rcond, hermitian=True) @ cov_g))
