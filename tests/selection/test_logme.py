"""LogME against a slow, direct float64 evaluation of its evidence formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from jtask2vec.errors import DataError
from jtask2vec.selection import logme, logme_fits
from jtask2vec.selection.logme import left_singular


def slow_log_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """log p(y | F, α, β) from the explicit D×D matrix A = αI + βFᵀF (no SVD, no shortcuts)."""
    f = np.asarray(f, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    _, log_det = np.linalg.slogdet(a)
    return float(
        d / 2 * np.log(alpha)
        + n / 2 * np.log(beta)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * np.sum((f @ m - y) ** 2)
        - alpha / 2 * m @ m
        - log_det / 2
    )


def slow_log_evidence_gaussian(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """The same evidence as the N×N Gaussian density y ~ N(0, FFᵀ/α + I/β)."""
    n = f.shape[0]
    cov = f @ f.T / alpha + np.eye(n) / beta
    _, log_det = np.linalg.slogdet(cov)
    return float(-0.5 * (n * np.log(2 * np.pi) + log_det + y @ np.linalg.solve(cov, y)))


def _data(n: int, d: int, signal: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    features = rng.normal(size=(n, d))
    features[:, 0] += signal * (2 * labels - 1)
    features[:, 1] += 1.0  # an offset column, so both one-hot columns have an interior optimum
    return features, labels


@pytest.mark.parametrize(
    ("n", "d", "signal"), [(60, 5, 1.5), (20, 30, 0.3)]
)  # N > D and N < D (rank-deficient FᵀF); both with interior optima
def test_evidence_matches_slow_formula_and_is_stationary(n: int, d: int, signal: float) -> None:
    features, labels = _data(n, d, signal=signal)
    fits = logme_fits(features, labels)
    assert len(fits) == 2
    for cls, fit in zip((0, 1), fits, strict=True):
        assert fit.converged and not fit.at_boundary
        y = (labels == cls).astype(np.float64)
        slow = slow_log_evidence(features, y, fit.alpha, fit.beta)
        assert fit.evidence == pytest.approx(slow, rel=1e-10, abs=1e-9)
        assert slow_log_evidence_gaussian(features, y, fit.alpha, fit.beta) == pytest.approx(slow, rel=1e-9)
        # a stationary point and a maximum: no perturbation of α or β improves the evidence
        for da, db in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99), (1.01, 1.01), (0.99, 0.99)]:
            assert slow_log_evidence(features, y, fit.alpha * da, fit.beta * db) <= fit.evidence + 1e-12
        # the gradient in (log α, log β) vanishes
        h = 1e-5
        for da, db in [(h, 0.0), (0.0, h)]:
            up = slow_log_evidence(features, y, fit.alpha * np.exp(da), fit.beta * np.exp(db))
            down = slow_log_evidence(features, y, fit.alpha * np.exp(-da), fit.beta * np.exp(-db))
            assert abs(up - down) / (2 * h) < 1e-5 * max(1.0, abs(fit.evidence))


def test_evidence_is_the_global_maximum_found_by_a_generic_optimiser() -> None:
    features, labels = _data(40, 6, signal=1.0, seed=3)
    y = (labels == 1).astype(np.float64)
    fit = logme_fits(features, labels)[1]
    best = minimize(
        lambda p: -slow_log_evidence(features, y, np.exp(p[0]), np.exp(p[1])),
        x0=np.zeros(2),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )
    assert fit.evidence == pytest.approx(-best.fun, rel=1e-8)
    assert np.log(fit.alpha) == pytest.approx(best.x[0], abs=1e-3)
    assert np.log(fit.beta) == pytest.approx(best.x[1], abs=1e-3)


def test_logme_is_mean_per_example_evidence_over_classes() -> None:
    features, labels = _data(50, 4, signal=1.0, seed=1)
    labels = labels + 2 * (np.arange(50) % 3 == 0)  # 4 classes
    fits = logme_fits(features, labels)
    assert len(fits) == len(np.unique(labels))
    assert logme(features, labels) == pytest.approx(np.mean([f.evidence for f in fits]) / 50)


def test_boundary_case_takes_the_alpha_to_infinity_limit() -> None:
    """Features orthogonal to the label columns cannot help: α diverges, evidence = its w = 0 limit."""
    rng = np.random.default_rng(5)
    n, d = 80, 3
    labels = rng.integers(0, 2, size=n)
    onehot = np.stack([labels == 0, labels == 1], axis=1).astype(np.float64)
    q, _ = np.linalg.qr(onehot)
    raw = rng.normal(size=(n, d))
    features = raw - q @ (q.T @ raw)  # Fᵀ y = 0 for both one-hot columns
    for cls, fit in enumerate(logme_fits(features, labels)):
        assert fit.converged and fit.at_boundary
        col = onehot[:, cls]
        beta0 = n / (col @ col)  # the w = 0 limit: y ~ N(0, I/β), maximised at β = N / ‖y‖²
        limit = n / 2 * np.log(beta0) - n / 2 * np.log(2 * np.pi) - beta0 / 2 * (col @ col)
        assert fit.beta == pytest.approx(beta0, rel=1e-9)
        assert fit.evidence == pytest.approx(limit, rel=1e-9)
        assert fit.evidence == pytest.approx(slow_log_evidence(features, col, fit.alpha, fit.beta), rel=1e-9)
        for alpha in (1e-2, 1.0, 1e2, 1e4):
            assert slow_log_evidence(features, col, alpha, beta0) < fit.evidence


def test_noise_free_boundary_takes_the_beta_to_infinity_limit() -> None:
    """N < D and F interpolates y: β diverges; the evidence is that of y ~ N(0, F Fᵀ / α) at its best α."""
    n, d = 12, 30
    features, labels = _data(n, d, signal=1.5, seed=0)
    fit = logme_fits(features, labels)[1]
    assert fit.converged and fit.at_boundary and fit.beta > 1e9
    y = (labels == 1).astype(np.float64)
    k = features @ features.T
    quad = float(y @ np.linalg.solve(k, y))
    alpha_star = n / quad  # argmax over α of log N(y; 0, K/α)
    _, log_det_k = np.linalg.slogdet(k)
    limit = -n / 2 * np.log(2 * np.pi) - log_det_k / 2 + n / 2 * np.log(alpha_star) - alpha_star / 2 * quad
    assert fit.alpha == pytest.approx(alpha_star, rel=1e-6)
    assert fit.evidence == pytest.approx(limit, rel=1e-9)
    gaussian = slow_log_evidence_gaussian(features, y, fit.alpha, fit.beta)  # well conditioned for large β
    assert fit.evidence == pytest.approx(gaussian, rel=1e-9)
    for beta in (1.0, 1e2, 1e4):
        assert slow_log_evidence_gaussian(features, y, fit.alpha, beta) < fit.evidence


def _reference_style_logme(f: np.ndarray, labels: np.ndarray, iterations: int, eps: float) -> float:
    """The thuml/LogME recipe (eigen-decomposition of FᵀF, α, β updates with additive ``eps``, evidence
    with those ``eps``), paraphrased; with eps=0 and many iterations it is the same estimator."""
    n, d = f.shape
    s, v = np.linalg.eigh(f.T @ f)
    s = np.clip(s, 0.0, None)
    out = []
    for c in np.unique(labels):
        y = (labels == c).astype(np.float64)
        proj = v.T @ (f.T @ y)
        alpha, beta = 1.0, 1.0
        for _ in range(iterations):
            gamma = (beta * s / (alpha + beta * s)).sum()
            m = v @ (proj * beta / (alpha + beta * s))
            alpha_de = m @ m
            beta_de = ((y - f @ m) ** 2).sum()
            alpha, beta = gamma / (alpha_de + eps), (n - gamma) / (beta_de + eps)
        evidence = (
            d / 2 * np.log(alpha)
            + n / 2 * np.log(beta)
            - 0.5 * np.log(alpha + beta * s).sum()
            - beta / 2 * (beta_de + eps)
            - alpha / 2 * (alpha_de + eps)
            - n / 2 * np.log(2 * np.pi)
        )
        out.append(evidence / n)
    return float(np.mean(out))


def test_agrees_with_the_reference_recipe() -> None:
    features, labels = _data(200, 8, signal=1.0, seed=11)
    ours = logme(features, labels)
    assert ours == pytest.approx(_reference_style_logme(features, labels, 500, 0.0), rel=1e-9)
    assert ours == pytest.approx(_reference_style_logme(features, labels, 11, 1e-5), rel=1e-3)


@pytest.mark.parametrize(("n", "d", "rank"), [(50, 6, 6), (6, 50, 6), (40, 10, 4), (10, 40, 4)])
def test_left_singular_matches_numpy_svd(n: int, d: int, rank: int) -> None:
    rng = np.random.default_rng(n + d)
    f = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d))  # rank-deficient when rank < min(n, d)
    u, sigma = left_singular(f)
    ref_u, ref_s, _ = np.linalg.svd(f, full_matrices=False)
    assert sigma.shape == (rank,)
    np.testing.assert_allclose(np.sort(sigma)[::-1], ref_s[:rank], rtol=1e-8)
    np.testing.assert_allclose(u.T @ u, np.eye(rank), atol=1e-8)
    np.testing.assert_allclose(u @ u.T, ref_u[:, :rank] @ ref_u[:, :rank].T, atol=1e-8)  # same column space


def test_rank_deficient_features_match_slow_formula() -> None:
    """Repeated texts give repeated feature rows: F has rank < min(N, D)."""
    features, labels = _data(40, 12, signal=0.5, seed=2)
    features[:, 6:] = features[:, :6] @ np.random.default_rng(0).normal(size=(6, 6))  # rank 6 < D
    features = np.concatenate([features, features[:5]])
    labels = np.concatenate([labels, labels[:5]])
    assert np.linalg.matrix_rank(features) == 6
    for cls, fit in enumerate(logme_fits(features, labels)):
        y = (labels == cls).astype(np.float64)
        assert fit.evidence == pytest.approx(slow_log_evidence(features, y, fit.alpha, fit.beta), rel=1e-8)


def test_rank_below_n_takes_the_flagged_noise_free_limit_on_the_column_space() -> None:
    """Labels exactly linear in features of rank r < N (repeated rows): the evidence → ∞ as β → ∞; the fit
    is the limit with the divergent (N − r)/2 · log(β/2π) removed, i.e. the r-dimensional density of y under
    N(0, F Fᵀ / α) at its best α, and it is flagged. (Was a DataError, issue 16.)"""
    from jtask2vec.selection import logme_score

    features, labels = _data(10, 30, signal=0.3, seed=2)  # N < D: y is in the column space
    features = np.concatenate([features, features[:4]])  # rank 10 < N = 14
    labels = np.concatenate([labels, labels[:4]])
    n, r = 14, 10
    result = logme_score(features, labels)
    assert result.flag == "rank-deficient" and result.converged and np.isfinite(result.score)
    u, s, _ = np.linalg.svd(features, full_matrices=False)
    for cls, fit in enumerate(logme_fits(features, labels)):
        assert fit.rank_deficient and fit.at_boundary and fit.beta == np.inf
        y = (labels == cls).astype(np.float64)
        z = u[:, :r].T @ y
        quad = float(np.sum((z / s[:r]) ** 2))
        assert fit.alpha == pytest.approx(r / quad, rel=1e-9)
        for beta in (1e8, 1e10):  # the full evidence minus its divergent part approaches the fit
            full = slow_log_evidence_gaussian(features, y, fit.alpha, beta)
            assert full - (n - r) / 2 * np.log(beta / (2 * np.pi)) == pytest.approx(fit.evidence, rel=1e-5)
    assert result.score == pytest.approx(np.mean([f.evidence for f in logme_fits(features, labels)]) / n)


def test_rows_repeated_to_float32_rounding_count_as_repeated() -> None:
    """A repeated text whose features differ in the last float32 bits (another batch, another padding) is
    a repeated row: the same flagged limit as an exact repeat, not a noise direction of σ ≈ 1e-7."""
    features, labels = _data(10, 30, signal=0.3, seed=2)
    exact = np.concatenate([features, features[:4]])
    jitter = np.random.default_rng(1).normal(size=(4, 30)) * 2e-8 * np.abs(features[:4])
    near = np.concatenate([features, (features[:4] + jitter).astype(np.float32).astype(np.float64)])
    labels = np.concatenate([labels, labels[:4]])
    from jtask2vec.selection import logme_score

    a, b = logme_score(exact, labels), logme_score(near, labels)
    assert a.flag == b.flag == "rank-deficient"
    assert b.score == pytest.approx(a.score, rel=1e-6)


def test_informative_features_rank_above_noise() -> None:
    rng = np.random.default_rng(7)
    n = 300
    labels = rng.integers(0, 2, size=n)
    noise = rng.normal(size=(n, 16))
    weak = noise.copy()
    weak[:, :2] += 0.7 * (2 * labels[:, None] - 1)
    strong = noise.copy()
    strong[:, :2] += 2.0 * (2 * labels[:, None] - 1)
    scores = [logme(x, labels) for x in (noise, weak, strong)]
    assert scores[0] < scores[1] < scores[2]


def test_bad_inputs_raise_data_error() -> None:
    with pytest.raises(DataError, match="2-D"):
        logme(np.zeros(5), np.zeros(5))
    with pytest.raises(DataError, match="labels"):
        logme(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(DataError, match="2 classes"):
        logme(np.random.default_rng(0).normal(size=(5, 2)), np.zeros(5))
    with pytest.raises(DataError, match="NaN"):
        logme(np.full((3, 2), np.nan), np.array([0, 1, 0]))


def _slow_to_interpolate() -> tuple[np.ndarray, np.ndarray]:
    """19 examples in 29 dims, one feature carrying the label: class 1 heads for the noise-free limit
    (β → ∞) so slowly that 10 000 fixed-point iterations do not reach it (found by a seeded search)."""
    rng = np.random.default_rng(112)
    n = int(rng.integers(10, 60))
    d = int(rng.integers(n + 1, 100))
    f = rng.normal(size=(n, d))
    y = rng.integers(0, 2, n)
    f[:, 0] += 10 * y
    return f, y


def test_a_fit_that_does_not_converge_is_flagged_with_its_iteration_count() -> None:
    from jtask2vec.selection import NOT_CONVERGED, logme_score

    f, y = _slow_to_interpolate()
    assert f.shape == (19, 29)
    with pytest.warns(RuntimeWarning, match="did not converge in 10000 iterations for class 1"):
        result = logme_score(f, y)
    assert not result.converged and result.iterations == 10_000 and result.flag == NOT_CONVERGED
    with pytest.warns(RuntimeWarning):
        assert result.score == logme(f, y)
    with pytest.warns(RuntimeWarning):  # warned on every call, not only once
        fits = logme_fits(f, y, max_iter=10_000)
    assert [fit.converged for fit in fits] == [True, False]


def test_max_iter_is_a_parameter_and_a_converged_fit_has_no_flag() -> None:
    from jtask2vec.selection import logme_score

    f, y = _data(80, 6, 1.0)
    done = logme_score(f, y)
    assert done.converged and 1 < done.iterations < 10_000 and done.flag == ""
    with pytest.warns(RuntimeWarning, match="did not converge in 1 iterations"):
        cut = logme_score(f, y, max_iter=1)
    assert not cut.converged and cut.iterations == 1 and cut.flag == "not converged"
