"""Transferability estimators against slow float64 implementations written from each paper's definition
(explicit loops and sums, no shared helpers), plus cases with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from jtask2vec.errors import DataError
from jtask2vec.selection.gbc import gbc
from jtask2vec.selection.hscore import hscore
from jtask2vec.selection.knn import knn_accuracy
from jtask2vec.selection.leep import leep
from jtask2vec.selection.nce import nce
from jtask2vec.selection.nleep import mixture_posteriors, nleep, reduce_features
from jtask2vec.selection.shrinkage_hscore import shrinkage_hscore
from jtask2vec.selection.transrate import transrate

# ---- slow references -------------------------------------------------------------------------------------


def ridge(f, divisor):
    """The float32-rounding ridge τ I, τ = (D · ε₃₂)² · Σᵢⱼ fᵢⱼ² / divisor, of an inverted covariance."""
    d = f.shape[1]
    return (d * float(np.finfo(np.float32).eps)) ** 2 * float(np.sum(f**2)) / divisor * np.eye(d)


def slow_hscore(f, y):
    n, d = f.shape
    mean = [sum(f[i, j] for i in range(n)) / n for j in range(d)]
    classes = sorted(set(y.tolist()))
    cmean = {c: np.mean([f[i] for i in range(n) if y[i] == c], axis=0) for c in classes}
    # cov(f) + τI inverted through an SVD of the centred data (an explicit inverse loses ~λ_max/τ digits)
    _, s, vt = np.linalg.svd(np.array([f[i] - mean for i in range(n)]) / np.sqrt(n - 1), full_matrices=True)
    lam = np.zeros(d)
    lam[: s.shape[0]] = s**2
    tau = ridge(f, n - 1)[0, 0]
    # tr((cov + τI)⁻¹ cov(E[f|y])) = Σ_k Σ_i (b_i · v_k)² / (N − 1) / (λ_k + τ), b_i = μ_{y_i} − μ (squared
    # projections: v_kᵀ cov_g v_k from the matrix would err by ε₆₄ |cov_g| / τ in the null directions)
    dev = [cmean[y[i]] - mean for i in range(n)]
    return float(sum(sum((b @ vt[k]) ** 2 for b in dev) / (n - 1) / (lam[k] + tau) for k in range(d)))


def slow_shrinkage_hscore(f, y):
    """Ledoit–Wolf 2004 shrinkage written out: δ² = ‖S − μI‖², β² = min(δ², mean ‖xxᵀ − S‖²), α = β²/δ²."""
    n, d = f.shape
    x = f - f.mean(axis=0)
    s = sum(np.outer(x[i], x[i]) for i in range(n)) / n
    mu = np.trace(s) / d
    delta2 = np.sum((s - mu * np.eye(d)) ** 2) / d
    beta2 = sum(np.sum((np.outer(x[i], x[i]) - s) ** 2) for i in range(n)) / d / n**2
    alpha = min(beta2, delta2) / delta2
    shrunk = (1 - alpha) * s + alpha * mu * np.eye(d)
    classes = sorted(set(y.tolist()))
    cmean = {c: np.mean([f[i] for i in range(n) if y[i] == c], axis=0) for c in classes}
    cov_g = sum(np.outer(cmean[y[i]] - f.mean(axis=0), cmean[y[i]] - f.mean(axis=0)) for i in range(n)) / n
    return float(np.trace(np.linalg.inv(shrunk + ridge(f, n)) @ ((1 - alpha) * cov_g)))


def slow_leep(theta, y):
    n, z = theta.shape
    classes = sorted(set(y.tolist()))
    joint = {(c, j): sum(theta[i, j] for i in range(n) if y[i] == c) / n for c in classes for j in range(z)}
    marg = {j: sum(joint[(c, j)] for c in classes) for j in range(z)}
    total = 0.0
    for i in range(n):
        total += math.log(sum(joint[(y[i], j)] / marg[j] * theta[i, j] for j in range(z) if marg[j] > 0))
    return total / n


def slow_nce(theta, y):
    n, z = theta.shape
    hard = [int(np.argmax(theta[i])) for i in range(n)]
    classes = sorted(set(y.tolist()))
    out = 0.0
    for c in classes:
        for j in range(z):
            p_cz = sum(1 for i in range(n) if y[i] == c and hard[i] == j) / n
            p_z = sum(1 for i in range(n) if hard[i] == j) / n
            if p_cz > 0:
                out += p_cz * math.log(p_cz / p_z)
    return out


def slow_gbc(f, y):
    n, d = f.shape
    classes = sorted(set(y.tolist()))
    stats = {}
    for c in classes:
        rows = [f[i] for i in range(n) if y[i] == c]
        mu = [sum(r[k] for r in rows) / len(rows) for k in range(d)]
        var = [sum((r[k] - mu[k]) ** 2 for r in rows) / len(rows) for k in range(d)]
        stats[c] = (mu, var)
    total = 0.0
    for a in classes:
        for b in classes:
            if a == b:
                continue
            (ma, va), (mb, vb) = stats[a], stats[b]
            db = 0.0
            for k in range(d):
                v = (va[k] + vb[k]) / 2
                db += (ma[k] - mb[k]) ** 2 / (8 * v) + 0.5 * math.log(v / math.sqrt(va[k] * vb[k]))
            total += math.exp(-db)
    return -total


def slow_coding_rate(z, eps):
    n, d = z.shape
    _, logdet = np.linalg.slogdet(np.eye(d) + d / (n * eps**2) * (z.T @ z))
    return 0.5 * logdet


def slow_transrate(f, y, eps):
    n = f.shape[0]
    z = f - f.mean(axis=0)
    rate = slow_coding_rate(z, eps)
    for c in sorted(set(y.tolist())):
        zc = np.array([z[i] for i in range(n) if y[i] == c])
        rate -= zc.shape[0] / n * slow_coding_rate(zc, eps)
    return rate


def slow_knn(f, y, k):
    n = f.shape[0]
    hits = 0.0
    for i in range(n):
        dist = sorted((float(np.sum((f[i] - f[j]) ** 2)), j) for j in range(n) if j != i)
        votes: dict = {}
        for _, j in dist[:k]:
            votes[y[j]] = votes.get(y[j], 0) + 1
        best = max(votes.values())
        tied = [c for c, v in votes.items() if v == best]
        hits += (1.0 / len(tied)) if y[i] in tied else 0.0
    return hits / n


def _data(n=80, d=6, signal=1.0, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    f = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    f[:, 0] += signal * y
    f[:, 1] -= 0.5 * signal * (y == 1)
    return f, y


def _probs(y, seed=0, z=2, sharp=2.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(y.shape[0], z))
    logits[:, 0] += sharp * (y == 0)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


# ---- against the slow references --------------------------------------------------------------------------


@pytest.mark.parametrize(("classes", "seed"), [(2, 0), (3, 1)])
def test_hscore_matches_slow(classes, seed):
    f, y = _data(seed=seed, classes=classes)
    assert hscore(f, y) == pytest.approx(slow_hscore(f, y), rel=1e-10)


def test_hscore_rank_deficient_features():
    f, y = _data(n=12, d=20, seed=3)
    assert hscore(f, y) == pytest.approx(slow_hscore(f, y), rel=1e-8)


@pytest.mark.parametrize(("n", "d"), [(80, 6), (30, 40)])
def test_shrinkage_hscore_matches_slow_ledoit_wolf(n, d):
    f, y = _data(n=n, d=d, seed=2)
    assert shrinkage_hscore(f, y) == pytest.approx(slow_shrinkage_hscore(f, y), rel=1e-9)


@pytest.mark.parametrize(("z", "classes"), [(2, 2), (4, 3)])
def test_leep_and_nce_match_slow(z, classes):
    _, y = _data(seed=4, classes=classes)
    theta = _probs(y, seed=5, z=z)
    assert leep(theta, y) == pytest.approx(slow_leep(theta, y), rel=1e-12)
    assert nce(theta, y) == pytest.approx(slow_nce(theta, y), rel=1e-12)


def test_leep_drops_unused_source_label():
    _, y = _data(seed=6)
    theta = np.concatenate([_probs(y, seed=7), np.zeros((y.shape[0], 1))], axis=1)
    assert leep(theta, y) == pytest.approx(slow_leep(theta, y), rel=1e-12)


@pytest.mark.parametrize("classes", [2, 3])
def test_gbc_matches_slow(classes):
    f, y = _data(seed=8, classes=classes)
    assert gbc(f, y) == pytest.approx(slow_gbc(f, y), rel=1e-12)


@pytest.mark.parametrize(("n", "d", "eps"), [(60, 5, 0.01), (20, 30, 0.5), (40, 3, 2.0)])
def test_transrate_matches_slow(n, d, eps):
    f, y = _data(n=n, d=d, seed=9, classes=3)
    assert transrate(f, y, eps=eps) == pytest.approx(slow_transrate(f, y, eps), rel=1e-9)


@pytest.mark.parametrize(("k", "classes"), [(1, 2), (4, 2), (5, 3)])
def test_knn_matches_slow(k, classes):
    f, y = _data(n=50, seed=10, classes=classes)
    assert knn_accuracy(f, y, k=k) == pytest.approx(slow_knn(f, y, k), abs=1e-12)


def test_nleep_is_leep_of_explicit_mixture_posteriors():
    """NLEEP = LEEP of the mixture's posteriors, recomputed from its parameters with explicit densities."""
    f, y = _data(n=90, d=8, signal=3.0, seed=11)
    reduced = reduce_features(f, 0.8, seed=0)
    # the PCA keeps the fewest leading components that explain >= 80% of the variance
    lam = np.sort(np.linalg.eigvalsh(np.cov(f, rowvar=False)))[::-1]
    assert reduced.shape[1] == int(np.argmax(np.cumsum(lam) / lam.sum() >= 0.8)) + 1
    _, gmm = mixture_posteriors(reduced, 10, seed=0)
    theta = np.zeros((f.shape[0], 10))
    for i in range(f.shape[0]):
        dens = [
            gmm.weights_[v] * multivariate_normal(gmm.means_[v], gmm.covariances_[v]).pdf(reduced[i])
            for v in range(10)
        ]
        theta[i] = np.array(dens) / sum(dens)
    assert nleep(f, y, seed=0) == pytest.approx(slow_leep(theta, y), rel=1e-6)


# ---- known answers ---------------------------------------------------------------------------------------


def _separable(n=60, d=4, seed=12):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    f = rng.normal(size=(n, d)) * 0.01
    f[:, 0] += 100.0 * y
    return f, y


def _identical(n=40, d=4, seed=13):
    rng = np.random.default_rng(seed)
    half = rng.normal(size=(n // 2, d))
    return np.concatenate([half, half]), np.repeat([0, 1], n // 2)


def test_known_extremes_of_feature_estimators():
    f, y = _separable()
    assert gbc(f, y) == pytest.approx(0.0, abs=1e-12)
    assert knn_accuracy(f, y, k=5) == 1.0
    assert nleep(f, y) == pytest.approx(0.0, abs=1e-9)
    g, z = _identical()
    assert hscore(g, z) == pytest.approx(0.0, abs=1e-12)
    assert shrinkage_hscore(g, z) == pytest.approx(0.0, abs=1e-12)
    assert gbc(g, z) == pytest.approx(-2.0, rel=1e-12)
    assert transrate(g, z) == pytest.approx(0.0, abs=1e-9)
    assert knn_accuracy(g, z, k=1) == 0.0  # each example's nearest other example is its relabelled copy


def test_hscore_reaches_c_minus_one_without_within_class_spread():
    rng = np.random.default_rng(14)
    centres = rng.normal(size=(3, 5))
    y = np.repeat([0, 1, 2], 10)
    # C − 1 up to the float32-rounding ridge τ (each term shrinks by λ / (λ + τ))
    assert hscore(centres[y], y) == pytest.approx(2.0, rel=1e-9)


def test_transrate_by_hand_in_one_dimension():
    f = np.array([[-1.0], [1.0], [-3.0], [3.0]])  # mean 0; class 0 = ±1, class 1 = ±3
    y = np.array([0, 0, 1, 1])
    eps = 1.0
    expected = 0.5 * math.log(1 + 20 / 4) - 0.5 * (0.5 * math.log(1 + 2 / 2) + 0.5 * math.log(1 + 18 / 2))
    assert transrate(f, y, eps=eps) == pytest.approx(expected, rel=1e-12)


def test_leep_nce_known_extremes():
    y = np.array([0, 1, 1, 0, 1, 0, 0, 0])
    perfect = np.eye(2)[1 - y]  # the source label determines the target label (swapped names)
    assert leep(perfect, y) == pytest.approx(0.0, abs=1e-12)
    assert nce(perfect, y) == pytest.approx(0.0, abs=1e-12)
    p = np.array([5 / 8, 3 / 8])
    entropy = -float(np.sum(p * np.log(p)))
    constant = np.tile([0.3, 0.7], (8, 1))  # uninformative source
    assert leep(constant, y) == pytest.approx(-entropy, rel=1e-12)
    assert nce(constant, y) == pytest.approx(-entropy, rel=1e-12)


def test_knn_tie_counts_half():
    f = np.array([[0.0], [1.0], [-1.0]])  # example 0: neighbours 1 and 2 with different labels
    y = np.array([0, 1, 0])
    # example 0: votes 1:1 -> 1/2; example 1: nearest two are 0 (d 1) and 2 (d 2), both label 0 -> 0;
    # example 2: neighbours 0 (label 0) and 1 (label 1) -> 1/2
    assert knn_accuracy(f, y, k=2) == pytest.approx((0.5 + 0 + 0.5) / 3)
    brute = np.mean([slow_knn(f, y, 2)])
    assert knn_accuracy(f, y, k=2) == pytest.approx(brute)


# ---- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [hscore, shrinkage_hscore, gbc, transrate, knn_accuracy, nleep])
def test_feature_estimators_reject_bad_input(fn):
    f, y = _data(n=20)
    with pytest.raises(DataError, match="2 classes"):
        fn(f, np.zeros(20, dtype=int))
    with pytest.raises(DataError, match="N=20"):
        fn(f, y[:-1])
    bad = f.copy()
    bad[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        fn(bad, y)


@pytest.mark.parametrize("fn", [leep, nce])
def test_probability_estimators_reject_bad_rows(fn):
    y = np.array([0, 1, 0, 1])
    with pytest.raises(DataError, match="example 2 sum"):
        fn(np.array([[0.5, 0.5], [1.0, 0.0], [0.7, 0.7], [0.1, 0.9]]), y)


def test_all_orderings_of_examples_give_the_same_scores():
    f, y = _data(n=30, seed=15)
    theta = _probs(y, seed=16)
    perm = np.random.default_rng(0).permutation(30)
    for fn in (hscore, shrinkage_hscore, gbc, transrate):
        assert fn(f[perm], y[perm]) == pytest.approx(fn(f, y), rel=1e-9)
    for fn in (leep, nce):
        assert fn(theta[perm], y[perm]) == pytest.approx(fn(theta, y), rel=1e-12)


# ---- fast paths against the previous implementations (sklearn), float64 ------------------------------------


def _assert_same_neighbours(f, ours, k):
    """``ours`` (N, k) are k nearest other examples of every row of ``f``: the same sorted float64 distances
    as sklearn's brute-force leave-one-out neighbours (which of two equidistant examples is arbitrary)."""
    from sklearn.neighbors import NearestNeighbors

    n = f.shape[0]
    ref = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(f).kneighbors(return_distance=False)
    rows = np.arange(n)[:, None]
    assert (ours != rows).all()  # never its own neighbour
    assert all(len(set(r)) == k for r in ours.tolist())
    exact = ((f[:, None, :] - f[None, :, :]) ** 2).sum(axis=-1)  # squared, from differences
    np.testing.assert_allclose(
        np.sort(exact[rows, ours], axis=1), np.sort(exact[rows, ref], axis=1), rtol=1e-12, atol=0
    )
    return ref


@pytest.mark.parametrize(
    ("n", "d", "k", "block", "spare"),
    [(200, 7, 5, 16, 4), (131, 30, 1, 50, 4), (64, 3, 9, 1024, 4), (12, 3, 4, 5, 20), (150, 5, 3, 40, 0)],
)
def test_knn_blocked_neighbours_match_sklearn_brute(n, d, k, block, spare):
    """The blocked float32 search with float64 certification returns sklearn's brute-force leave-one-out
    neighbour sets: off-diagonal and ragged blocks, all examples as candidates (N = 12), no spare
    candidates; an exact duplicate is still a neighbour."""
    from jtask2vec.selection.knn import loo_neighbours

    rng = np.random.default_rng(n)
    f = rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, size=d) + 50.0  # off-centre: the fast path centres
    f[1] = f[n - 1]  # a duplicate pair in different blocks
    ours = loo_neighbours(f, k, block=block, spare=spare)
    ref = _assert_same_neighbours(f, ours, k)
    assert np.mean([set(a) == set(b) for a, b in zip(ours.tolist(), ref.tolist(), strict=True)]) > 0.9
    assert n - 1 in ours[1] and 1 in ours[n - 1]
    y = rng.integers(0, 3, size=n)
    assert knn_accuracy(f, y, k=k) == pytest.approx(slow_knn(f, y, k), abs=1e-12)


def test_knn_float32_near_ties_fall_back_to_float64():
    """Clusters tiny against their distance from the centroid: float32 distances cannot order the
    neighbours inside a cluster (errors ~1e-4 of ‖x‖² ≫ the spread), float64 can; the result is float64's."""
    from jtask2vec.selection.knn import loo_neighbours

    rng = np.random.default_rng(5)
    centres = np.array([[1000.0, 0, 0, 0], [-1000.0, 0, 0, 0], [0, 1000.0, 0, 0]])
    labels = rng.integers(0, 3, size=240)
    f = centres[labels] + rng.normal(size=(240, 4)) * 1e-3
    f[:, 2:] += rng.normal(size=(240, 2)) * 1e-2  # some examples better resolved than others
    for k in (1, 4):
        _assert_same_neighbours(f, loo_neighbours(f, k, block=50), k)
    y = rng.integers(0, 2, size=240)
    assert knn_accuracy(f, y, k=3) == pytest.approx(slow_knn(f, y, 3), abs=1e-12)


@pytest.mark.parametrize(("n", "d"), [(300, 12), (25, 60), (40, 1)])
def test_ledoit_wolf_closed_form_matches_sklearn(n, d):
    from sklearn.covariance import LedoitWolf

    from jtask2vec.selection.shrinkage_hscore import ledoit_wolf

    rng = np.random.default_rng(d)
    f = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0
    shrunk, alpha = ledoit_wolf(f)
    ref = LedoitWolf().fit(f)
    assert alpha == pytest.approx(ref.shrinkage_, rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(shrunk, ref.covariance_, rtol=1e-10, atol=1e-12 * np.abs(shrunk).max())


@pytest.mark.parametrize(("n", "d", "variance"), [(90, 8, 0.8), (40, 60, 0.5), (200, 5, 0.99)])
def test_nleep_pca_matches_sklearn_pca(n, d, variance):
    """Same number of components, same signs, same scores as the PCA the previous code called."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(n)
    f = rng.normal(size=(n, d)) * np.linspace(3.0, 0.2, d) + 7.0
    ours = reduce_features(f, variance, seed=0)
    ref = PCA(n_components=variance, svd_solver="covariance_eigh").fit_transform(f)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


def test_class_sums_match_add_at():
    from jtask2vec.selection.hscore import class_sums

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4))
    codes = rng.integers(0, 3, size=50)
    expected = np.zeros((4, 4))
    np.add.at(expected, codes, x)  # class 3 has no examples: a zero row
    np.testing.assert_allclose(class_sums(x, codes, 4), expected, rtol=1e-13, atol=1e-13)


def test_transrate_class_gram_path_matches_direct_coding_rates():
    from jtask2vec.selection.transrate import coding_rate

    f, y = _data(n=120, d=6, seed=21, classes=3)
    z = f - f.mean(axis=0)
    direct = coding_rate(z, 0.01) - sum(np.mean(y == c) * coding_rate(z[y == c], 0.01) for c in range(3))
    assert transrate(f, y) == pytest.approx(direct, rel=1e-11)
