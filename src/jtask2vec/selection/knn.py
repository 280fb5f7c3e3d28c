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

Exact brute-force search (the neighbour sets of ``sklearn.neighbors.NearestNeighbors(algorithm="brute")``,
to float64 round-off) in float32 where a rigorous error bound certifies it, float64 where it does not. The
features are centred (distances are unchanged) and scaled by a power of two to |x| < 1 (exact), then:

1. float32 candidates: squared distances ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ as one float32 product of the rows
   [−2xᵢ, ‖xᵢ‖², 1] and [xⱼ, 1, ‖xⱼ‖²] (half the cost of float64), each block of the upper triangle
   computed once and used for its row and its column examples, keeping a running k + 4 smallest per
   example (the first 4k + 1 columns of each diagonal block by ``np.argpartition``, then from ever wider
   column ranges only the entries below an example's current largest kept value); memory O(block² + N·k),
   not O(N²). Each value is within bᵢ = γ_{D+5} (‖xᵢ‖ + maxⱼ‖xⱼ‖)² of the exact distance
   (γ_n = n·u/(1 − n·u), u = 2⁻²⁴; plus float64 and underflow terms far below it).
2. the k smallest float32 values are the k nearest examples when the k-th is more than 2bᵢ below the
   (k + 1)-th (no example can change sides);
3. otherwise the candidates' float64 distances ‖xᵢ − xⱼ‖² choose the k nearest, certified when the k-th
   is below the kept float32 maximum minus bᵢ (no non-candidate can be nearer);
4. otherwise (near-ties at the float32 resolution) the example is searched again in float64 over all N.

The neighbours come as a set (ordered by the float32 distance); only the votes are used.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.selection._inputs import check_features, check_labels


def loo_neighbours(f: np.ndarray, k: int, *, block: int = 640, spare: int = 4) -> np.ndarray:
    """(N, k) indices of each example's k nearest *other* examples (1 ≤ k ≤ N − 1), see the module docstring.

    Each example is excluded from its own neighbours by index, so an exact duplicate of it still counts as
    a neighbour."""
    n, d = f.shape
    x = f - f.mean(axis=0)
    peak = float(np.abs(x).max())
    if peak > 0:
        x = np.ldexp(x, -int(np.frexp(peak)[1]))  # exact power-of-two scaling to |x| < 1: no float32 overflow
    sq = np.einsum("ij,ij->i", x, x)
    m = min(n - 1, k + spare)
    candidates, approx = float32_top_k(x, sq, m, block)  # (N, m), rows ascending in the float32 distance
    norms = np.sqrt(sq)
    reach = (norms + norms.max()) ** 2
    bound = (d + 5) * 2.0**-24 / (1 - (d + 5) * 2.0**-24) * reach + (d + 4) * 2.0**-52 * reach + d * 2.0**-140
    nearest = candidates[:, :k].copy()
    if m == k:
        unsure = np.arange(n) if m < n - 1 else np.empty(0, dtype=np.int64)
    else:
        unsure = np.flatnonzero(~(approx[:, k - 1] + 2 * bound < approx[:, k]))
    if unsure.size:
        refined, kth = _refine(x, unsure, candidates[unsure], k)
        nearest[unsure] = refined
        if m < n - 1:  # a non-candidate j has float32 distance ≥ the kept maximum: true distance ≥ that − bᵢ
            unsure = unsure[~(kth * (1 + 1e-12) < approx[unsure, -1] - bound[unsure])]
        else:
            unsure = unsure[:0]
    for lo in range(0, unsure.size, block):
        rows = unsure[lo : lo + block]
        dist = sq[rows, None] + sq[None, :] - 2.0 * (x[rows] @ x.T)
        dist[np.arange(rows.size), rows] = np.inf
        nearest[rows] = np.argpartition(dist, k - 1, axis=1)[:, :k]
    return nearest


def _refine(x: np.ndarray, rows: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Among ``candidates`` (r, m) of the examples ``rows`` (r,), the k nearest in float64 (from
    ‖xᵢ − xⱼ‖², no cancellation) and the k-th squared distance."""
    dist = np.empty(candidates.shape)
    for lo in range(0, rows.shape[0], 256):
        diff = x[candidates[lo : lo + 256]] - x[rows[lo : lo + 256], None, :]
        dist[lo : lo + 256] = np.einsum("imd,imd->im", diff, diff)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(candidates, order, axis=1), np.take_along_axis(dist, order[:, -1:], axis=1)[
        :, 0
    ]


def float32_top_k(x: np.ndarray, sq: np.ndarray, k: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, k) indices of each row's k smallest float32 ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ over j ≠ i and those values,
    each row in ascending order; one float32 product per pair of blocks."""
    n = x.shape[0]
    ones = np.ones((n, 1))
    left = np.hstack([-2.0 * x, sq[:, None], ones]).astype(np.float32)
    right = np.hstack([x, ones, sq[:, None]]).astype(np.float32)
    starts = range(0, n, block)
    best = _TopK(n, k, np.float32)

    def distances(a: int, c: int) -> np.ndarray:
        return left[a : a + block] @ right[c : c + block].T

    for a in starts:  # diagonal blocks: the first 4k + 1 columns fully, then ever wider column ranges
        dist = distances(a, a)
        np.fill_diagonal(dist, np.inf)  # not its own neighbour
        lo = hi = 4 * k + 1
        best.merge_dense(a, dist[:, :hi], a)
        while lo < dist.shape[1]:
            hi = 4 * hi
            best.merge_below(a, dist[:, lo:hi], a + lo)
            lo = hi
    for a in starts:  # then each off-diagonal block once, for its row and its column examples
        for c in starts:
            if c > a:
                dist = distances(a, c)
                best.merge_below(a, dist, c)
                best.merge_below(c, dist, a, transposed=True)
    order = np.argsort(best.dist, axis=1, kind="stable")
    return np.take_along_axis(best.index, order, axis=1), np.take_along_axis(best.dist, order, axis=1)


class _TopK:
    """Running k smallest distances (and their column indices) of every row; unfilled slots are +inf."""

    def __init__(self, n: int, k: int, dtype: type) -> None:
        self.k = k
        self.dist = np.full((n, k), np.inf, dtype=dtype)
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

    def merge_below(self, start: int, dist: np.ndarray, offset: int, *, transposed: bool = False) -> None:
        """Merge the entries of ``dist`` (r, m) below each row's current k-th smallest distance (the only
        ones that can enter its top k; usually a tiny fraction), by one sort of those candidates. With
        ``transposed``, the rows to update are the columns of ``dist`` (which is then (m, r))."""
        size = dist.shape[1] if transposed else dist.shape[0]
        rows = np.arange(start, start + size)
        limit = self.dist[rows].max(axis=1)
        if transposed:
            hit_col, hit_row = np.nonzero(dist < limit[None, :])
            values = dist[hit_col, hit_row]
        else:
            hit_row, hit_col = np.nonzero(dist < limit[:, None])
            values = dist[hit_row, hit_col]
        if hit_row.size == 0:
            return
        touched = rows[np.unique(hit_row)]
        owner = np.concatenate([np.repeat(touched, self.k), rows[hit_row]])
        pool = np.concatenate([self.dist[touched].ravel(), values])
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
