"""Task distances on hand-checked small vectors."""

from __future__ import annotations

import numpy as np
import pytest

from jtask2vec.config import EvaluationConfig
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.fisher.distances import DISTANCES, cosine_similarity_matrix, distance_matrix
from jtask2vec.fisher.embedding import TaskEmbedding

A = np.array([1.0, 0.0, 1.0])
B = np.array([1.0, 1.0, 0.0])
C = np.array([2.0, 0.0, 2.0])
EMB = {"a": A, "b": B, "c": C}


def test_registry_covers_the_config_names():
    assert set(DISTANCES) == set(EvaluationConfig().distances)


def test_cosine_hand_checked():
    d = distance_matrix(EMB, "cosine")
    assert list(d.index) == ["a", "b", "c"] and list(d.columns) == ["a", "b", "c"]
    assert d.loc["a", "b"] == pytest.approx(0.5)  # cos = 1/(√2·√2)
    assert d.loc["a", "c"] == pytest.approx(0.0)  # scale does not matter
    assert cosine_similarity_matrix(EMB).loc["a", "b"] == pytest.approx(0.5)


def test_normalized_cosine_hand_checked():
    # a/(a+b) = (1/2, 0, 1), b/(a+b) = (1/2, 1, 0): cos = (1/4)/(5/4) = 1/5
    d = distance_matrix({"a": A, "b": B}, "normalized-cosine")
    assert d.loc["a", "b"] == pytest.approx(1 - 0.2)
    # c = 2a: a/(a+c) = (1/3, ., 1/3), c/(a+c) = (2/3, ., 2/3) (dim 1 dropped): parallel -> 0
    assert distance_matrix({"a": A, "c": C}, "normalized-cosine").loc["a", "c"] == pytest.approx(0.0)


def test_rms_cosine_hand_checked():
    x, y = np.array([1.0, 10.0]), np.array([3.0, 10.0])
    # rms per dim: sqrt(5), 10 -> x' = (1/√5, 1), y' = (3/√5, 1)
    xs, ys = np.array([1 / np.sqrt(5), 1.0]), np.array([3 / np.sqrt(5), 1.0])
    want = 1 - xs @ ys / (np.linalg.norm(xs) * np.linalg.norm(ys))
    assert distance_matrix({"x": x, "y": y}, "rms-cosine").loc["x", "y"] == pytest.approx(want)


def test_asymmetric_hand_checked():
    t0 = np.array([1.0, 1.0, 1.0])
    d = distance_matrix({"a": A, "b": B}, "asymmetric", trivial=t0, alpha=0.15)
    # d_sym(a, t0): a/(a+t0) = (1/2, 0, 1/2), t0/(a+t0) = (1/2, 1, 1/2): cos = (1/2)/(√(1/2)·√(3/2)) = 1/√3
    d_a_t0 = 1 - 1 / np.sqrt(3)
    assert d.loc["a", "b"] == pytest.approx(0.8 - 0.15 * d_a_t0)
    assert d.loc["b", "a"] == pytest.approx(0.8 - 0.15 * d_a_t0)  # same by symmetry of a, b vs t0 here
    d2 = distance_matrix({"a": A, "c": np.array([1.0, 1.0, 1.0])}, "asymmetric", trivial=B, alpha=0.5)
    assert d2.loc["a", "c"] != pytest.approx(d2.loc["c", "a"])  # not symmetric in general
    with pytest.raises(ConfigError, match="trivial"):
        distance_matrix(EMB, "asymmetric")


def test_symmetric_kl_hand_checked():
    a, b = np.array([1.0, 4.0]), np.array([2.0, 1.0])
    d = distance_matrix({"a": a, "b": b}, "symmetric-kl")
    lam = 1e-3 * np.mean([1, 4, 2, 1])
    r = (b + lam) / (a + lam)
    assert d.loc["a", "b"] == pytest.approx(np.mean(r + 1 / r - 2) / 4)
    # without damping: r = (2, 1/4) -> ((2 + 1/2 - 2) + (1/4 + 4 - 2)) / 2 / 4 = 0.34375
    assert d.loc["a", "b"] == pytest.approx(0.34375, rel=1e-2)


@pytest.mark.parametrize("name", ["cosine", "normalized-cosine", "rms-cosine", "symmetric-kl"])
def test_symmetric_distances_are_symmetric_with_zero_diagonal(name):
    rng = np.random.default_rng(0)
    emb = {f"t{i}": rng.random(7) for i in range(4)}
    d = distance_matrix(emb, name).to_numpy()
    np.testing.assert_allclose(d, d.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(d), 0, atol=1e-12)
    assert (d[~np.eye(4, dtype=bool)] > 0).all()


def test_accepts_task_embeddings_and_rejects_bad_input():
    emb = {"a": TaskEmbedding(vector=A), "b": TaskEmbedding(vector=B)}
    assert distance_matrix(emb, "cosine").loc["a", "b"] == pytest.approx(0.5)
    with pytest.raises(DataError, match="dimensions"):
        distance_matrix({"a": A, "b": np.ones(2)}, "cosine")
    with pytest.raises(DataError, match="not finite"):
        distance_matrix({"a": A, "b": np.array([np.nan, 1, 1])}, "cosine")
    with pytest.raises(ConfigError, match="unknown distance"):
        distance_matrix(EMB, "euclid")


def test_self_distances_are_never_negative() -> None:
    """Rounding could push cos(a, a) past 1 and print "-0.0000" on a diagonal; it is clipped."""
    from jtask2vec.fisher.distances import cosine_distance, normalized_cosine_distance

    rng = np.random.default_rng(0)
    for _ in range(200):
        a = rng.random(116) * 10 ** rng.uniform(-8, 3)
        assert cosine_distance(a, a) >= 0.0
        assert normalized_cosine_distance(a, a) >= 0.0
