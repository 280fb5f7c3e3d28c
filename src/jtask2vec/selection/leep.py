"""LEEP (Nguyen, Hassner, Seeger & Archambeau, "LEEP: a new measure to evaluate transferability of learned
representations", ICML 2020): how well the *source* classifier's predictions, re-mapped to target labels,
predict the target labels.

Inputs: ``probabilities`` θ (N × Z), the source classifier's predicted distribution over its Z source labels
for each of the N target examples (for our fine-tuned binary source heads Z = 2, the softmax of the head);
``labels`` y (N,), the target labels (C classes).

    P̂(y, z) = (1/N) Σᵢ θᵢ(z) · 1[yᵢ = y]                (empirical joint of target and dummy source label)
    P̂(y | z) = P̂(y, z) / Σ_y' P̂(y', z)
    LEEP     = (1/N) Σᵢ log( Σ_z P̂(yᵢ | z) · θᵢ(z) )

LEEP ≤ 0 (the log-likelihood of the expected empirical predictor). LEEP = 0 when the source prediction
determines the target label (θ one-hot and every source label maps to one target label); when θ is the same
for every example LEEP = Σ_y p̂(y) log p̂(y) = −H(Y). A source label z that no example puts mass on has
P̂(z) = 0; its column never contributes (θᵢ(z) = 0 for all i) and is dropped. Higher = better.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.errors import DataError
from jtask2vec.selection._inputs import check_labels, check_probabilities


def expected_empirical_likelihoods(
    probabilities: np.ndarray, codes: np.ndarray, n_classes: int
) -> np.ndarray:
    """(N,): ``Σ_z P̂(yᵢ | z) θᵢ(z)`` for every example (``codes`` are target labels in 0..C−1)."""
    theta = probabilities
    onehot = np.eye(n_classes)[codes]  # (N, C)
    joint = onehot.T @ theta / theta.shape[0]  # (C, Z)
    marginal = joint.sum(axis=0)  # (Z,)
    used = marginal > 0
    conditional = joint[:, used] / marginal[used]  # P̂(y | z), (C, Z_used)
    return np.einsum("iz,iz->i", theta[:, used], conditional[codes])


def leep(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """LEEP of source predictions ``probabilities`` (N, Z) for target ``labels`` (N,); float64, ≤ 0."""
    theta = check_probabilities("leep", probabilities)
    codes, n_classes = check_labels("leep", labels, theta.shape[0])
    likelihoods = expected_empirical_likelihoods(theta, codes, n_classes)
    if (likelihoods <= 0).any():  # pragma: no cover - impossible: each example contributes to its own term
        raise DataError("leep: an example has zero likelihood under the expected empirical predictor")
    return float(np.mean(np.log(likelihoods)))
