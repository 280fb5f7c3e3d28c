"""kNN accuracy: leave-one-out accuracy of a k-nearest-neighbour classifier of the target labels on the
features (a classic non-parametric transferability proxy; e.g. Renggli et al. 2022, Bai et al. 2023).

For features ``f`` (N × D) and labels ``y`` (N,): for every example i, the k examples j ≠ i nearest to it in
Euclidean distance vote, one vote each; the prediction is the
majority label. A tie between labels counts as the expected hit of a uniformly random tie-break
(1/#tied when yᵢ is among the tied labels, else 0). Then

    kNN = (1/N) Σᵢ hitᵢ      ∈ [0, 1].

1 when each example's k nearest other examples share its label (separable classes); 0 when every example
has a nearer copy with the other label (identical classes, k = 1). Ties in the *distances* at the k-th
neighbour are broken arbitrarily. ``k`` is capped at N − 1. Higher = better.

Exact brute-force search (what ``sklearn.neighbors.NearestNeighbors(algorithm="brute")`` computes, about twice
as fast): squared distances ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ of the centred features (distances are unchanged by the
shift, and centring reduces the cancellation) from float64 Gram blocks, each block of the upper triangle
computed once and used for both its row and its column examples, keeping a running top-k per example: the
diagonal blocks by ``np.argpartition``, then from each off-diagonal block only the entries below an example's
current k-th distance. Memory O(block² + N·k), not O(N²).
"""

from __future__ import annotations

import numpy as np

from jtask2vec.selection._inputs import check_features, check_labels


def loo_neighbours(f: np.ndarray, k: int, *, block: int = 1024) -> np.ndarray:
    """(N, k) indices of each example's k nearest *other* examples, nearest first (1 ≤ k ≤ N − 1).

    Each example is excluded from its own neighbours by index, so an exact duplicate of it still counts as
    a neighbour."""
    n = f.shape[0]
    x = f - f.mean(axis=0)
    sq = np.einsum("ij,ij->i", x, x)
    starts = range(0, n, block)
    best = _TopK(n, k)

    def distances(a: int, c: int) -> np.ndarray:
        rows, cols = slice(a, min(a + block, n)), slice(c, min(c + block, n))
        return sq[rows, None] + sq[None, cols] - 2.0 * (x[rows] @ x[cols].T)

    for a in starts:  # diagonal blocks first: every example starts with k candidates from its own block
        dist = distances(a, a)
        np.fill_diagonal(dist, np.inf)  # not its own neighbour
        best.merge_dense(a, dist, a)
    for a in starts:  # then each off-diagonal block once, for its row and its column examples
        for c in starts:
            if c > a:
                dist = distances(a, c)
                best.merge_below(a, dist, c)
                best.merge_below(c, dist.T, a)
    order = np.argsort(best.dist, axis=1, kind="stable")
    return np.take_along_axis(best.index, order, axis=1)


class _TopK:
    """Running k smallest distances (and their column indices) of every row; unfilled slots are +inf."""

    def __init__(self, n: int, k: int) -> None:
        self.k = k
        self.dist = np.full((n, k), np.inf)
        self.index = np.full((n, k), -1, dtype=np.int64)

    def merge_dense(self, start: int, dist: np.ndarray, offset: int) -> None:
        """Merge all of ``dist`` (r, m): rows ``start ..``, columns ``offset ..``, by ``np.argpartition``."""
        rows = slice(start, start + dist.shape[0])
        pool = np.concatenate([self.dist[rows], dist], axis=1)
        pool_index = np.concatenate(
            [self.index[rows], np.broadcast_to(np.arange(offset, offset + dist.shape[1]), dist.shape)], axis=1
        )
        keep = np.argpartition(pool, self.k - 1, axis=1)[:, : self.k]
        self.dist[rows] = np.take_along_axis(pool, keep, axis=1)
        self.index[rows] = np.take_along_axis(pool_index, keep, axis=1)

    def merge_below(self, start: int, dist: np.ndarray, offset: int) -> None:
        """Merge the entries of ``dist`` (r, m) below each row's current k-th smallest distance (the only
        ones that can enter its top k; usually a tiny fraction), by one sort of those candidates."""
        rows = np.arange(start, start + dist.shape[0])
        hit_row, hit_col = np.nonzero(dist < self.dist[rows].max(axis=1)[:, None])
        if hit_row.size == 0:
            return
        touched = rows[np.unique(hit_row)]
        owner = np.concatenate([np.repeat(touched, self.k), rows[hit_row]])
        pool = np.concatenate([self.dist[touched].ravel(), dist[hit_row, hit_col]])
        pool_index = np.concatenate([self.index[touched].ravel(), hit_col + offset])
        order = np.lexsort((pool, owner))  # by row, then by distance
        owner, pool, pool_index = owner[order], pool[order], pool_index[order]
        first = np.searchsorted(owner, touched)  # every touched row has ≥ k entries (its current ones)
        take = (first[:, None] + np.arange(self.k)).ravel()
        self.dist[touched] = pool[take].reshape(-1, self.k)
        self.index[touched] = pool_index[take].reshape(-1, self.k)


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
