"""The vectorised one-target distances equal distance_matrix's per-pair values (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.fisher.distances import DISTANCES, distance_matrix, distances_to_target


@pytest.mark.parametrize("name", list(DISTANCES))
def test_equals_the_column_of_the_target_in_distance_matrix(name: str) -> None:
    rng = np.random.default_rng(3)
    sources = rng.gamma(0.5, 1e-3, size=(9, 40))
    sources[2, :5] = 0.0  # zeros on both sides: dropped dimensions of the normalized cosine
    sources[4] = 0.0  # a zero vector: cosine 0 by convention
    target = rng.gamma(0.5, 1e-3, size=40)
    target[:3] = 0.0
    t0 = rng.gamma(0.5, 1e-3, size=40)
    vectors = {f"s{i}": row for i, row in enumerate(sources)} | {"target": target}
    want = distance_matrix(vectors, name, trivial=t0, alpha=0.15)["target"].to_numpy()[:-1]
    got = distances_to_target(sources, target, name, trivial=t0, alpha=0.15)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_asymmetric_takes_one_t0_per_source() -> None:
    rng = np.random.default_rng(4)
    sources, target = rng.random((4, 12)), rng.random(12)
    t0s = rng.random((4, 12))
    got = distances_to_target(sources, target, "asymmetric", trivial=t0s, alpha=0.3)
    for i in range(4):
        vectors = {"s": sources[i], "t": target}
        want = distance_matrix(vectors, "asymmetric", trivial=t0s[i], alpha=0.3).loc["s", "t"]
        assert got[i] == pytest.approx(want, rel=1e-12)


def test_bad_input_is_refused() -> None:
    with pytest.raises(DataError, match="dimension"):
        distances_to_target(np.ones((2, 3)), np.ones(4), "cosine")
    with pytest.raises(ConfigError, match="t0"):
        distances_to_target(np.ones((2, 3)), np.ones(3), "asymmetric")
    with pytest.raises(DataError, match="non-negative"):
        distances_to_target(-np.ones((2, 3)), np.ones(3), "symmetric-kl")
    with pytest.raises(DataError, match="not finite"):
        distances_to_target(np.full((2, 3), np.nan), np.ones(3), "cosine")
