"""TransRate (Huang, Huang, Wang, Wang, Dai & Wang, "Frustratingly easy transferability estimation", ICML
2022): the mutual information between features and labels, estimated by the coding rate of the features
(Ma et al. 2007, rate-distortion of a Gaussian code at distortion ε).

For features centred over the N examples, Z (N × D), and labels y (N,) with classes c of n_c examples
(rows Z_c of Z, not re-centred),

    R(Z, ε)     = 1/2 · log det( I_D + D / (N ε²) · ZᵀZ )
    R(Z, ε | Y) = Σ_c (n_c / N) · R(Z_c, ε)
    TransRate   = R(Z, ε) − R(Z, ε | Y).

TransRate ≥ 0 (log det is concave and ZᵀZ/N = Σ_c (n_c/N) Z_cᵀZ_c/n_c, so Jensen's inequality applies); it
is exactly 0 when every class has the same examples (identical classes). Higher = better.

Deliberate deviations from the authors' published code, which weights each class by 1/C instead of n_c/N
and writes 1/(N·eps) for D/(N ε²): the paper's formula is used (the two agree for balanced classes up to
the choice of ε), because with the 1/C weights the non-negativity above does not hold for unbalanced
targets. ``eps`` is ε (default 0.01, ε² = 1e-4). The log-determinants are computed by Cholesky from the
smaller Gram matrix (det(I + c ZᵀZ) = det(I + c ZZᵀ)); when every class has at least D examples, ZᵀZ is
the sum of the class Grams Z_cᵀZ_c (one pass over the data).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cholesky

from jtask2vec.selection._inputs import check_features, check_labels


def coding_rate(z: np.ndarray, eps: float, d: int | None = None) -> float:
    """``1/2 log det(I_D + D/(n ε²) zᵀz)`` for ``z`` (n, D), ``D = d`` if given (default ``z.shape[1]``)."""
    n, dims = z.shape
    return rate_of_gram(z.T @ z if n >= dims else z @ z.T, n, dims if d is None else d, eps)


def rate_of_gram(gram: np.ndarray, n: int, d: int, eps: float) -> float:
    """``1/2 log det(I + D/(n ε²) gram)`` for a Gram matrix ``zᵀz`` or ``zzᵀ`` of n examples in D dims."""
    # I + c·gram is symmetric positive definite (eigenvalues ≥ 1): its log-determinant from a Cholesky factor
    factor = cholesky(np.eye(gram.shape[0]) + d / (n * eps * eps) * gram, lower=True, check_finite=False)
    return float(np.sum(np.log(np.diag(factor))))


def transrate(features: np.ndarray, labels: np.ndarray, *, eps: float = 0.01) -> float:
    """TransRate of ``features`` (N, D) for ``labels`` (N,); float64, ≥ 0. Higher = better."""
    if not eps > 0:
        raise ValueError(f"transrate: eps must be > 0, got {eps}")
    f = check_features("transrate", features)
    codes, n_classes = check_labels("transrate", labels, f.shape[0])
    z = f - f.mean(axis=0)
    n, d = z.shape
    blocks = [z[codes == c] for c in range(n_classes)]
    if all(block.shape[0] >= d for block in blocks):
        # every class uses its D × D Gram Z_cᵀZ_c, and ZᵀZ = Σ_c Z_cᵀZ_c: no second pass over all of Z
        grams = [block.T @ block for block in blocks]
        total = rate_of_gram(np.sum(grams, axis=0), n, d, eps)
        conditional = sum(
            b.shape[0] / n * rate_of_gram(g, b.shape[0], d, eps) for b, g in zip(blocks, grams, strict=True)
        )
    else:
        total = coding_rate(z, eps)
        conditional = sum(b.shape[0] / n * coding_rate(b, eps) for b in blocks)
    return total - conditional
