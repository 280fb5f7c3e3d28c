"""LogME (You et al., ICML 2021; reference code thuml/LogME): how well pooled features explain labels.

For features ``F`` (N examples × D dims) and one target column ``y`` (N,), LogME fits a Bayesian linear model

    w ~ N(0, α⁻¹ I_D),      y | F, w ~ N(F w, β⁻¹ I_N)

and maximises over (α, β) the log marginal evidence

    log p(y | F, α, β) = D/2 log α + N/2 log β − N/2 log 2π − β/2 ‖F m − y‖² − α/2 mᵀm − 1/2 log|A|,
    A = α I_D + β FᵀF,      m = β A⁻¹ Fᵀ y.

With the thin SVD ``F = U diag(σ) Vᵀ`` (r ≤ min(N, D) nonzero singular values) everything is diagonal:

    z = Uᵀ y,   m = V diag(β σ / (α + β σ²)) z,   log|A| = Σᵢ log(α + β σᵢ²) + (D − r) log α,
    ‖F m − y‖² = Σᵢ (σᵢ mᵢ − zᵢ)² + ‖y‖² − ‖z‖²,

and the evidence is maximised by MacKay's fixed-point iteration

    γ = Σᵢ β σᵢ² / (α + β σᵢ²),     α ← γ / mᵀm,     β ← (N − γ) / ‖F m − y‖²,

whose fixed point is a stationary point of the evidence. When no interior maximum exists, one precision
diverges: α → ∞ when the features do not help predict the column (w = 0), or β → ∞ when F has full row
rank (N ≤ D) and y is best explained without noise. Once α > 1e12 · max(β σ²_max, 1), resp.
β σ²_min > 1e12 · max(α, 1), that precision is frozen (the evidence is then within ~1e-12 relative of its
limit) and the other one is solved alone; ``EvidenceFit.at_boundary`` records it.

**Rank.** The features come from float32 models, so a singular value is only known to float32 precision:
an entrywise rounding error of ≲ √D · ε₃₂ relative moves every singular value by at most
‖δF‖_F ≤ D · ε₃₂ · σ_max (Weyl), so directions with σ² ≤ (D · ε₃₂)² · σ²_max count as exactly zero
(:func:`left_singular`). A cut-off from float64 precision (max(N, D) · ε₆₄ · σ²_max) sits below that noise
and keeps directions that are float32 rounding (repeated texts whose features differ in the last bits,
LayerNorm's null direction when N ≈ D), which then decide whether the noise-free limit is reached. The cut is
relative to the *uncentred* σ²_max, which a common offset of the features dominates, so it is far below the
genuine directions of real features (≥ 1e-9 relative for a random tiny BERT); dropping a direction of
σ² below it changes the evidence by O(β σ² / α) only, since each direction's term tends to that of an
absent one as σ → 0.

**Rank below N.** If y lies in the column space of an F of rank r < N (e.g. repeated rows with their
labels), the evidence grows without bound as β → ∞ (the density of a noise-free model concentrated on an
r-dimensional subspace; "in the column space": ‖y − U Uᵀ y‖² ≤ (D ε₃₂)² ‖y‖², the precision to which
the column space of float32 features is known). The score then takes the limit on that subspace: the
log-density of y under the degenerate Gaussian N(0, F Fᵀ / α) with respect to r-dimensional volume,
maximised over α in closed form,

    log p = −r/2 log 2π − Σᵢ log σᵢ + r/2 log α − α/2 Σᵢ zᵢ² / σᵢ²,     α = r / Σᵢ zᵢ² / σᵢ²,

(the β → ∞ limit of the evidence with its divergent (N − r)/2 · log β term removed; for r = N it is the
limit the iteration approaches), and the fit is flagged ``rank-deficient`` (:class:`LogMEScore`).

For classification the labels are one-hot encoded and the score is the mean over classes of the
maximised evidence divided by N (per example), as in thuml/LogME. Unlike the reference code, the evidence
is evaluated with ``m`` recomputed at the final (α, β) and without its 1e-5 additive constants, so the
returned number is exactly the formula above.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from jtask2vec.errors import DataError
from jtask2vec.selection.hscore import FEATURE_EPS, RANK_DEFICIENT

_TINY = 1e-300  # floors a vanishing residual or weight norm (perfect fit) so the updates stay finite
_BOUNDARY = 1e12  # prior/noise precision ratio beyond which the maximum is at α → ∞ or β → ∞
MAX_ITER = 10_000  # fixed-point iterations per class before a fit is reported as not converged
TOL = 1e-10  # relative change of α and β below which the fixed point is reached


@dataclass(frozen=True)
class EvidenceFit:
    """The maximised evidence of one target column and where it was found."""

    evidence: float  # log p(y | F, α, β), summed over the N examples (not divided by N)
    alpha: float
    beta: float
    iterations: int
    converged: bool
    at_boundary: bool = False  # no interior maximum: α → ∞ (w = 0) or β → ∞ (noise-free); limit taken
    rank_deficient: bool = False  # y in the column space of F of rank r < N: the r-dimensional β → ∞ limit


def _fit_column(
    sigma: np.ndarray, z: np.ndarray, outside: float, n: int, d: int, *, tol: float, max_iter: int
) -> EvidenceFit:
    """Fixed-point iteration for one column, given ``σ`` (r,), ``z = Uᵀy`` (r,) and ``‖y − U z‖²``."""
    s2 = sigma * sigma
    r = sigma.shape[0]
    s2_max = float(s2.max()) if r else 0.0
    s2_min = float(s2.min()) if r else 0.0
    # β can only run away when F can interpolate y: nothing of y outside the column space of F
    can_interpolate = outside == 0.0 and s2_min > 0

    def updates(alpha: float, beta: float) -> tuple[float, float]:
        denom = alpha + beta * s2
        m = beta * sigma * z / denom
        gamma = float((beta * s2 / denom).sum())
        m_sq = max(float(m @ m), _TINY)
        resid = max(float(((sigma * m - z) ** 2).sum()) + outside, _TINY)
        return gamma / m_sq, max(n - gamma, _TINY) / resid

    alpha, beta = 1.0, 1.0
    converged = at_boundary = False
    free = "both"
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007  (the final count is reported)
        new_alpha, new_beta = updates(alpha, beta)
        if free == "beta":
            new_alpha = alpha
        elif free == "alpha":
            new_beta = beta
        change = max(abs(new_alpha - alpha) / alpha, abs(new_beta - beta) / beta)
        alpha, beta = new_alpha, new_beta
        if change < tol:
            converged = True
            break
        if free != "both":
            continue
        if alpha > _BOUNDARY * max(beta * s2_max, 1.0):
            # The prior swamps the data (w = 0 explains y best): the evidence rises towards its α → ∞
            # limit, reached here to ~1e-12 relative. Keep this α; solve β alone (last update used old γ).
            free, at_boundary = "beta", True
        elif can_interpolate and beta * s2_min > _BOUNDARY * max(alpha, 1.0):
            # Noise-free fit (β → ∞): the evidence rises towards its limit y ~ N(0, F Fᵀ / α). Keep β.
            free, at_boundary = "alpha", True
    denom = alpha + beta * s2
    m = beta * sigma * z / denom
    resid = float(((sigma * m - z) ** 2).sum()) + outside
    log_det = float(np.log(denom).sum()) + (d - r) * np.log(alpha)
    evidence = (
        d / 2 * np.log(alpha)
        + n / 2 * np.log(beta)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * resid
        - alpha / 2 * float(m @ m)
        - log_det / 2
    )
    return EvidenceFit(float(evidence), float(alpha), float(beta), it, converged, at_boundary)


def _noise_free_limit(sigma: np.ndarray, z: np.ndarray) -> EvidenceFit:
    """The β → ∞ limit on the column space of a rank-deficient F (see the module docstring), α optimal."""
    r = sigma.shape[0]
    quad = max(float(np.sum((z / sigma) ** 2)), _TINY)
    alpha = r / quad
    evidence = -r / 2 * np.log(2 * np.pi) - float(np.log(sigma).sum()) + r / 2 * np.log(alpha) - r / 2
    return EvidenceFit(float(evidence), float(alpha), np.inf, 0, True, at_boundary=True, rank_deficient=True)


def left_singular(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(U, σ)`` of the thin SVD ``F = U diag(σ) Vᵀ`` restricted to the r numerically nonzero σ.

    Through the eigen-decomposition of the smaller Gram matrix (FᵀF when N > D, as thuml/LogME does, else
    FFᵀ), which is much cheaper than an SVD of a tall F; then ``U = F V / σ``. Eigenvalues at or below
    ``(D · ε₃₂)² · λ_max`` (float32 rounding, see the module docstring) count as zero, and the fit treats
    those directions as exactly zero singular values.
    """
    n, d = f.shape
    if n > d:
        lam, v = np.linalg.eigh(f.T @ f)
    else:
        lam, u = np.linalg.eigh(f @ f.T)
    keep = lam > (d * FEATURE_EPS) ** 2 * max(float(lam.max()), 0.0)
    sigma = np.sqrt(lam[keep])
    u = f @ (v[:, keep] / sigma) if n > d else u[:, keep]
    return u, sigma


def logme_fits(
    features: np.ndarray, labels: np.ndarray, *, tol: float | None = None, max_iter: int | None = None
) -> list[EvidenceFit]:
    """One :class:`EvidenceFit` per class (sorted class values), for the one-hot column of that class.

    ``features``: (N, D) real; ``labels``: (N,) discrete class labels (at least two distinct values).
    ``tol`` and ``max_iter`` default to :data:`TOL` and :data:`MAX_ITER`.
    """
    tol = TOL if tol is None else tol
    max_iter = MAX_ITER if max_iter is None else max_iter
    f = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    if f.ndim != 2:
        raise DataError(f"logme: features must be 2-D (N, D), got shape {f.shape}")
    if y.ndim != 1 or y.shape[0] != f.shape[0]:
        raise DataError(f"logme: labels must be 1-D with N={f.shape[0]} entries, got shape {y.shape}")
    if not np.isfinite(f).all():
        raise DataError("logme: features contain NaN or infinite values")
    classes = np.unique(y)
    if classes.shape[0] < 2:
        raise DataError(f"logme: labels need at least 2 classes, got {classes.tolist()}")
    n, d = f.shape
    u, sigma = left_singular(f)
    # ‖y − U Uᵀ y‖² / ‖y‖² at or below (D ε₃₂)²: y is in the column space of F, known to float32 precision
    in_span = (d * FEATURE_EPS) ** 2
    fits = []
    for c in classes:
        col = (y == c).astype(np.float64)
        z = u.T @ col
        outside = 0.0 if u.shape[1] == n else float(((col - u @ z) ** 2).sum())  # ‖y‖² off F's columns
        if outside <= in_span * float(col @ col):
            outside = 0.0  # y lies in the column space of F: the rest is round-off
            if u.shape[1] < n:  # rank r < N (repeated examples?): the r-dimensional noise-free limit
                fits.append(_noise_free_limit(sigma, z))
                continue
        fit = _fit_column(sigma, z, outside, n, d, tol=tol, max_iter=max_iter)
        if not fit.converged:
            warnings.warn(
                f"logme: the evidence maximisation did not converge in {max_iter} iterations "
                f"for class {c.item()!r}",
                RuntimeWarning,
                stacklevel=2,
            )
        fits.append(fit)
    return fits


@dataclass(frozen=True)
class LogMEScore:
    """A LogME score with how its maximisation went: ``converged`` is False when any class's fixed-point
    iteration stopped at ``max_iter`` (the score is then the evidence where it stopped, a lower bound);
    ``rank_deficient`` when a class took the rank-deficient noise-free limit (see the module docstring)."""

    score: float
    converged: bool
    iterations: int  # the most iterations any class took
    rank_deficient: bool = False

    @property
    def flag(self) -> str:
        """``"not converged"``, ``"rank-deficient"``, both (``"; "``-joined) or ``""``: the ``flag`` column
        of the scores table."""
        flags = [] if self.converged else [NOT_CONVERGED]
        return "; ".join([*flags, RANK_DEFICIENT] if self.rank_deficient else flags)


NOT_CONVERGED = "not converged"


def logme_score(
    features: np.ndarray, labels: np.ndarray, *, tol: float | None = None, max_iter: int | None = None
) -> LogMEScore:
    """:func:`logme` with the convergence of its evidence maximisation (see :class:`LogMEScore`)."""
    fits = logme_fits(features, labels, tol=tol, max_iter=max_iter)
    n = np.asarray(features).shape[0]
    return LogMEScore(
        score=float(np.mean([fit.evidence / n for fit in fits])),
        converged=all(fit.converged for fit in fits),
        iterations=max(fit.iterations for fit in fits),
        rank_deficient=any(fit.rank_deficient for fit in fits),
    )


def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME score: mean over classes of the maximised log evidence per example (higher = better features).

    ``features``: (N, D) pooled features of the N labelled examples; ``labels``: (N,) class labels.
    """
    return logme_score(features, labels).score
