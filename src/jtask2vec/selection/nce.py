"""NCE, negative conditional entropy (Tran, Nguyen & Hassner, "Transferability and hardness of supervised
classification tasks", ICCV 2019): how much the source classifier's *hard* predictions tell about the target
labels.

Inputs as for LEEP: ``probabilities`` θ (N × Z) of the source classifier on the N target examples and the
target ``labels`` y (N,). The source label of example i is its arg-max ``zᵢ = argmax_z θᵢ(z)`` (ties: the
first, numpy's rule). With the empirical joint ``P̂(y, z) = #{i : yᵢ = y, zᵢ = z} / N``,

    NCE = −H(Y | Z) = Σ_{y,z} P̂(y, z) · log( P̂(y, z) / P̂(z) )      (terms with P̂(y, z) = 0 are 0).

NCE ≤ 0; NCE = 0 when each source prediction determines the target label; NCE = −H(Y) when the source
predictions carry no information (e.g. the source always predicts the same label). Higher = better.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.selection._inputs import check_labels, check_probabilities


def nce(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """NCE of source predictions ``probabilities`` (N, Z) for target ``labels`` (N,); float64, ≤ 0."""
    theta = check_probabilities("nce", probabilities)
    codes, n_classes = check_labels("nce", labels, theta.shape[0])
    source = np.argmax(theta, axis=1)
    joint = np.zeros((n_classes, theta.shape[1]))
    np.add.at(joint, (codes, source), 1.0)
    joint /= theta.shape[0]
    marginal = joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    ratio = np.divide(joint, marginal, out=np.ones_like(joint), where=nonzero)
    return float(np.sum(joint[nonzero] * np.log(ratio[nonzero])))
