"""kNN accuracy: leave-one-out accuracy of a k-nearest-neighbour classifier of the target labels on the
features (a classic non-parametric transferability proxy; e.g. Renggli et al. 2022, Bai et al. 2023).

For features ``f`` (N × D) and labels ``y`` (N,): for every example i, the k examples j ≠ i nearest to it in
Euclidean distance (``sklearn.neighbors.NearestNeighbors``) vote, one vote each; the prediction is the
majority label. A tie between labels counts as the expected hit of a uniformly random tie-break
(1/#tied when yᵢ is among the tied labels, else 0). Then

    kNN = (1/N) Σᵢ hitᵢ      ∈ [0, 1].

1 when each example's k nearest other examples share its label (separable classes); 0 when every example
has a nearer copy with the other label (identical classes, k = 1). Ties in the *distances* at the k-th
neighbour are broken by sklearn (arbitrarily). ``k`` is capped at N − 1. Higher = better.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from jtask2vec.selection._inputs import check_features, check_labels


def loo_neighbours(f: np.ndarray, k: int) -> np.ndarray:
    """(N, k) indices of each example's k nearest *other* examples, nearest first.

    ``kneighbors()`` without a query excludes each indexed point from its own neighbours (by index, so an
    exact duplicate of it still counts as a neighbour)."""
    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(f)
    return index.kneighbors(return_distance=False)


def vote_hits(votes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(N,) expected hit of a majority vote: ``votes`` (N, C) counts, ties broken uniformly at random."""
    top = votes == votes.max(axis=1, keepdims=True)
    return top[np.arange(codes.shape[0]), codes] / top.sum(axis=1)


def knn_accuracy(features: np.ndarray, labels: np.ndarray, *, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy of ``features`` (N, D) for ``labels`` (N,); float64 in [0, 1]."""
    if k < 1:
        raise ValueError(f"knn: k must be >= 1, got {k}")
    f = check_features("knn", features)
    codes, n_classes = check_labels("knn", labels, f.shape[0])
    k = min(k, f.shape[0] - 1)
    neighbours = loo_neighbours(f, k)
    votes = np.zeros((f.shape[0], n_classes))
    np.add.at(votes, (np.repeat(np.arange(f.shape[0]), k), codes[neighbours].ravel()), 1.0)
    return float(vote_hits(votes, codes).mean())
