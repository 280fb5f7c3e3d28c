"""NLEEP, Gaussian-mixture LEEP (Li, Jia, Zhu, Wu, Zhang, Liu & Zhang, "Ranking neural checkpoints", CVPR
2021): LEEP with the source classifier replaced by the posteriors of a Gaussian mixture fitted to the
features, so it works from features alone.

For features ``f`` (N × D) and target labels ``y`` (N,), C classes:

1. PCA of ``f`` keeping the fewest components that explain ``variance`` (default 0.8) of its variance
   (``sklearn.decomposition.PCA(n_components=0.8)``, as in the paper; computed directly, see
   :func:`reduce_features`);
2. a Gaussian mixture with ``components_per_class · C`` components (default 5 · C, as in the paper;
   capped below N) fitted to the reduced features by EM (``sklearn.mixture.GaussianMixture``, full
   covariances, seeded k-means initialisation);
3. θᵢ(v) = posterior of component v for example i (N × V), and

    NLEEP = LEEP(θ, y) = (1/N) Σᵢ log( Σ_v P̂(yᵢ | v) θᵢ(v) )       (see :mod:`jtask2vec.selection.leep`).

The reduced features are scaled to unit variance along their first component before EM, so that the
mixture's covariance regulariser (``reg_covar`` = 1e-6, absolute in scikit-learn) is relative to the data
(far above float32 rounding, ~ε₃₂² relative) and the score does not depend on the features' scale.

NLEEP ≤ 0; it is 0 when every mixture component is pure in the target label (e.g. well separated class
clusters). EM finds a local optimum from a seeded start: the score is deterministic for a given ``seed``.
Higher = better.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from sklearn.mixture import GaussianMixture

from jtask2vec.selection._inputs import check_features, check_labels
from jtask2vec.selection.leep import leep


def reduce_features(f: np.ndarray, variance: float, seed: int) -> np.ndarray:
    """Scores on the leading principal components explaining ``variance`` of the variance (N, K).

    What ``sklearn.decomposition.PCA(n_components=variance, svd_solver="covariance_eigh").fit_transform``
    returns (same K: the fewest leading components whose cumulative variance ratio exceeds ``variance``;
    same signs: each component's largest-magnitude entry positive), computed from the D × D covariance of
    the centred features with the eigenvalues alone first (``eigvalsh``) and then only the K leading
    eigenvectors (``scipy.linalg.eigh(subset_by_index=...)``). ``seed`` is unused (the PCA is exact); it is
    kept for the call signature."""
    del seed
    x = f - f.mean(axis=0)
    if f.shape[1] == 1:
        return x
    cov = x.T @ x  # the divisor N − 1 cancels in the variance ratios
    lam = np.maximum(np.linalg.eigvalsh(cov)[::-1], 0.0)  # descending, negatives (round-off) clipped
    ratio = np.cumsum(lam / lam.sum())
    d = cov.shape[0]
    k = min(int(np.searchsorted(ratio, variance, side="right")) + 1, d)
    _, vec = eigh(cov, subset_by_index=[d - k, d - 1], check_finite=False)
    components = vec[:, ::-1]  # (D, K), leading first
    peak = np.argmax(np.abs(components), axis=0)
    components = components * np.sign(components[peak, np.arange(k)])
    return x @ components


def mixture_posteriors(
    reduced: np.ndarray, n_components: int, seed: int, covariance_type: str = "full"
) -> tuple[np.ndarray, GaussianMixture]:
    """(N, V) posteriors of a ``V``-component Gaussian mixture fitted to ``reduced`` (N, K), and the fit."""
    gmm = GaussianMixture(
        n_components=n_components, covariance_type=covariance_type, random_state=seed, reg_covar=1e-6
    )
    gmm.fit(reduced)
    return gmm.predict_proba(reduced), gmm


def nleep(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    variance: float = 0.8,
    components_per_class: int = 5,
    seed: int = 0,
) -> float:
    """NLEEP of ``features`` (N, D) for ``labels`` (N,); float64, ≤ 0. Higher = better."""
    f = check_features("nleep", features)
    _, n_classes = check_labels("nleep", labels, f.shape[0])
    reduced = reduce_features(f, variance, seed)
    scale = float(np.sqrt(np.mean(reduced[:, 0] ** 2)))  # the first component's standard deviation
    reduced = reduced / scale if scale > 0 else reduced
    n_components = max(1, min(components_per_class * n_classes, f.shape[0] - 1))
    posteriors, _ = mixture_posteriors(reduced, n_components, seed)
    return leep(posteriors / posteriors.sum(axis=1, keepdims=True), labels)
