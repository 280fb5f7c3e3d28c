"""Every feature-based selector gives the same score, to 1e-4 relative, for the same mean-pooled LayerNorm
features computed in float32 with two summation orders (tokens forward and reversed): the scores must not
depend on rounding, i.e. on the CPU and BLAS kernels a run happens to use (issue 16).

Pooled LayerNorm features lie on a hyperplane up to float32 rounding (each token vector satisfies one linear
constraint after LayerNorm, and the mean keeps it), so their covariance has a near-null direction whose
variance is float32 noise: the case where an inverse that follows the noise gave H-scores 2 % apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from jtask2vec.selection.feature_based import FEATURE_SELECTORS, score_features_flagged, uses_features
from jtask2vec.selection.features import TargetFeatures

TOKENS = 6
RTOL = 1e-4


def pooled_layernorm_features(n: int, d: int, *, seed: int, bias: bool) -> tuple[np.ndarray, ...]:
    """``(forward, reversed, labels)``: the mean over 6 LayerNorm-ed token vectors per example (float32,
    as a model computes them), summed over the tokens in one order and in the other; weak class signal."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, TOKENS, d)).astype(np.float32)
    x += (0.05 * (2 * labels - 1))[:, None, None].astype(np.float32) * rng.normal(size=d).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, size=d).astype(np.float32)
    beta = (0.3 * rng.normal(size=d) if bias else np.zeros(d)).astype(np.float32)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    h = (x - mu) / np.sqrt(var + np.float32(1e-12)) * gamma + beta  # float32 throughout
    forward = np.zeros((n, d), np.float32)
    for t in range(TOKENS):
        forward += h[:, t]
    backward = np.zeros((n, d), np.float32)
    for t in reversed(range(TOKENS)):
        backward += h[:, t]
    scale = np.float32(TOKENS)
    return (forward / scale).astype(np.float64), (backward / scale).astype(np.float64), labels


SELECTORS = [s for s in FEATURE_SELECTORS if uses_features(s)]


@pytest.mark.parametrize("bias", [True, False], ids=["ln-bias", "ln-no-bias"])
@pytest.mark.parametrize(("n", "d"), [(24, 32), (40, 32), (400, 32), (1500, 48)], ids=lambda v: str(v))
def test_every_selector_is_the_same_for_two_float32_summation_orders(n: int, d: int, bias: bool) -> None:
    forward, backward, labels = pooled_layernorm_features(n, d, seed=n + d, bias=bias)
    assert 0 < np.abs(forward - backward).max() < 1e-5  # the two orders differ in the last bits only
    centred = forward - forward.mean(axis=0)
    lam = np.linalg.eigvalsh(centred.T @ centred)
    if n > d:
        assert lam[0] < 1e-12 * lam[-1]  # the LayerNorm hyperplane: one direction of float32 noise
    probs = np.full((n, 2), 0.5)
    one = score_features_flagged(SELECTORS, TargetFeatures(forward, probs, "last"), labels, seed=0)
    other = score_features_flagged(SELECTORS, TargetFeatures(backward, probs, "last"), labels, seed=0)
    off = {
        s: (one[s].score, other[s].score)
        for s in SELECTORS
        if not abs(one[s].score - other[s].score) <= RTOL * abs(one[s].score)
    }
    assert not off, f"scores moved by the summation order (N={n}, D={d}): {off}"
    assert {s: one[s].flag for s in SELECTORS} == {s: other[s].flag for s in SELECTORS}
    if n > d:  # the covariance of centred LayerNorm features is singular: H-score says so
        assert one["hscore"].flag == "rank-deficient"
