"""H-score (Bao et al., "An information-theoretic approach to transferability in task transfer learning",
ICIP 2019): how much of the feature covariance the class-conditional means explain.

For features ``f`` (N × D) and labels ``y`` (N,),

    H(f) = tr( cov(f)⁻¹ · cov(E[f | y]) ),

where ``E[f | y]`` replaces every example by the mean feature vector of its class and both covariances are
the sample covariances over the N examples (``np.cov``: divisor N − 1; the factor cancels). Computed without
forming either N × D class-mean matrix: cov(E[f|y]) has rank ≤ C − 1, so the trace is
Σ_c n_c (μ_c − μ)ᵀ cov(f)⁻¹ (μ_c − μ) / (N − 1) (see :func:`trace_inverse_times`).

**The inverse, and why it is regularised.** Pooled features of a LayerNorm-ed encoder have a singular
covariance: every token vector satisfies one linear constraint after LayerNorm, and mean pooling keeps it.
Features come from float32 models, so that constraint holds only to float32 precision and the variance along
the near-null direction is float32 rounding noise (~ε₃₂² of the features' squared magnitude). An exact
inverse (or a pseudo-inverse with a float64 cut-off, ~D·ε₆₄ ≈ 1e-14 relative, of the order of that noise)
weights the noise by its reciprocal, and the score then depends on the summation order of the model's
kernels, i.e. on the CPU (by up to 2 % at N = 400, D = 32 for synthetic LayerNorm features;
``tests/selection/test_rounding.py``). So ``cov(f)`` is decomposed once (``eigh``, no Cholesky-or-not
branch) and
inverted with a ridge of the size of float32 rounding:

    cov⁻¹ ≈ Σᵢ vᵢvᵢᵀ / (λᵢ + τ),     τ = (D · ε₃₂)² · ‖F‖²_F,     ε₃₂ = 2⁻²³ (:data:`FEATURE_EPS`),

with F the *uncentred* features (N × D). Why this size: a float32 value of a sum or dot product of D
terms (LayerNorm, pooling) carries an error of ≲ √D · ε₃₂ relative, so the features are known up to an
error δF with ‖δF‖_F ≤ D · ε₃₂ · ‖F‖_F, and by Weyl's inequality no singular value of the centred features
(√λᵢ) is known better than that: a direction with λ ≤ τ cannot be told from rounding. The bound is taken on
the uncentred magnitudes because rounding is relative to the values, not to their spread. The ridge is
continuous in the data (no threshold that rounding could move a direction across), takes the noise
direction's term down to ≤ λ_noise / τ, and shrinks the term of a genuine direction by λ / (λ + τ) only
(a ridge of D · ε₃₂ · λ_max instead, ~1e-4 relative at D = 768, moved the H-score of
``bench/selector_speed.py``'s anisotropic features by 9 %; this one by 2e-4). A covariance with
eigenvalues at or below ``τ`` is *rank-deficient* (always when N ≤ D, and for LayerNorm-ed features): the
score is then the H-score on the other directions, and it is flagged (:data:`RANK_DEFICIENT`).

Range: 0 ≤ H ≤ min(C − 1, rank cov(f)), since cov(f) = cov(E[f|y]) + (within-class covariance) ⪰
cov(E[f|y]). H = 0 when every class has the same mean; H ≈ C − 1 when every example sits at its class mean
(no within-class spread). Higher = better features for the target labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jtask2vec.selection._inputs import check_features, check_labels

FEATURE_EPS = float(np.finfo(np.float32).eps)  # the features come from float32 models
RANK_DEFICIENT = "rank-deficient"  # flag: a covariance (or Gram) with directions at float32 rounding level


def rounding_floor(f: np.ndarray) -> float:
    """``τ = (D · ε₃₂)² · ‖F‖²_F`` of features ``f`` (N, D): the scatter (Σ over the N examples) below which
    a direction of float32 features is indistinguishable from rounding (see the module docstring); the ridge
    of every inverted covariance (divide by N for a covariance with divisor N)."""
    return (f.shape[1] * FEATURE_EPS) ** 2 * float(np.einsum("ij,ij->", f, f))


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


@dataclass(frozen=True)
class RegularisedTrace:
    """``tr((cov + τI)⁻¹ · Σ_c n_c d_c d_cᵀ)`` and the numerical rank of ``cov`` (eigenvalues above τ)."""

    value: float
    rank: int
    dim: int

    @property
    def flag(self) -> str:
        """:data:`RANK_DEFICIENT` when some eigenvalue of the covariance is at rounding level, else ``""``."""
        return RANK_DEFICIENT if self.rank < self.dim else ""


def trace_inverse_times(
    cov: np.ndarray, deviations: np.ndarray, counts: np.ndarray, tau: float
) -> RegularisedTrace:
    """``Σ_c n_c d_cᵀ (cov + τI)⁻¹ d_c`` for a symmetric PSD ``cov`` (D, D) and the ridge ``tau``
    (:func:`rounding_floor`, in the units of ``cov``).

    One eigen-decomposition, whatever the conditioning (see the module docstring); negative eigenvalues
    (round-off of a PSD matrix) count as 0. All-zero features (``tau`` = 0) give 0."""
    d = cov.shape[0]
    lam, vec = np.linalg.eigh(cov)
    lam = np.maximum(lam, 0.0)
    if tau <= 0.0 or lam[-1] <= 0.0:
        return RegularisedTrace(0.0, 0, d)
    proj = deviations @ vec  # (C, D)
    value = float(np.sum(counts * np.sum(proj * proj / (lam + tau), axis=1)))
    return RegularisedTrace(value, int(np.count_nonzero(lam > tau)), d)


def hscore_fit(features: np.ndarray, labels: np.ndarray) -> RegularisedTrace:
    """H-score of ``features`` (N, D) for ``labels`` (N,) with the covariance's numerical rank."""
    f = check_features("hscore", features)
    codes, n_classes = check_labels("hscore", labels, f.shape[0])
    centred = f - f.mean(axis=0)
    cov_f = centred.T @ centred  # the common divisor N − 1 of both covariances cancels
    deviations, counts = between_class_deviations(f, codes, n_classes)
    return trace_inverse_times(cov_f, deviations, counts, rounding_floor(f))


def hscore(features: np.ndarray, labels: np.ndarray) -> float:
    """H-score of ``features`` (N, D) for ``labels`` (N,); float64. Higher = better."""
    return hscore_fit(features, labels).value
