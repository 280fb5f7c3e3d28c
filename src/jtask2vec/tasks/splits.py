"""Deterministic, stratified, group-aware splitting, subsampling and partitioning.

All three functions work on *units*: an example, or a group of examples that must stay together
(``groups[i]`` equal for two examples, e.g. identical texts). A unit's class is the majority label of its
members (ties -> the lower label). Within each class, units are shuffled by ``numpy.random.default_rng(seed)``
and dealt out, so the same inputs and seed always give the same result, independently of the platform.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from jtask2vec.tasks.base import SplitName


def _units(labels: np.ndarray, groups: Sequence[object] | None) -> tuple[list[np.ndarray], np.ndarray]:
    """Units (arrays of example indices, in first-seen order) and each unit's class (majority label)."""
    n = len(labels)
    if groups is None:
        members = [np.array([i], dtype=np.int64) for i in range(n)]
    else:
        if len(groups) != n:
            raise ValueError("groups must have one entry per example")
        order: dict[object, list[int]] = {}
        for i, g in enumerate(groups):
            order.setdefault(g, []).append(i)
        members = [np.asarray(v, dtype=np.int64) for v in order.values()]
    unit_class = np.array(
        [int(np.bincount(labels[m], minlength=2).argmax()) if len(m) else 0 for m in members], dtype=np.int64
    )
    return members, unit_class


def _as_labels(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(labels, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError("labels must be one-dimensional")
    if arr.size and (arr.min() < 0):
        raise ValueError("labels must be non-negative integers")
    return arr


def stratified_split(
    labels: Sequence[int] | np.ndarray,
    dev_fraction: float,
    test_fraction: float,
    seed: int,
    groups: Sequence[object] | None = None,
) -> list[SplitName]:
    """Assign each example to "train", "dev" or "test", stratified by class, groups kept together.

    For each class ``c`` with ``n_c`` examples, units of class ``c`` are shuffled and dealt to test until it
    holds ``round(n_c * test_fraction)`` examples, then to dev until ``round(n_c * dev_fraction)``, the rest
    to train. A non-zero fraction gets at least one unit of every class that has at least three units (so
    every split can see every class). Without groups the counts per class are exact.
    """
    y = _as_labels(labels)
    if not (0 <= dev_fraction < 1 and 0 < test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise ValueError("need 0 <= dev_fraction, 0 < test_fraction and dev_fraction + test_fraction < 1")
    members, unit_class = _units(y, groups)
    out: list[SplitName] = ["train"] * len(y)
    rng = np.random.default_rng(seed)
    for c in np.unique(unit_class):
        units = np.flatnonzero(unit_class == c)
        units = units[rng.permutation(len(units))]
        n_c = int(sum(len(members[u]) for u in units))
        targets: list[tuple[SplitName, int]] = []
        for name, frac in (("test", test_fraction), ("dev", dev_fraction)):
            want = round(n_c * frac)
            if frac > 0 and want == 0 and len(units) >= 3:
                want = 1
            targets.append((name, want))
        pos = 0
        for name, want in targets:
            got = 0
            # Leave at least one unit for training.
            while got < want and pos < len(units) - 1:
                size = len(members[units[pos]])
                # Do not overshoot by more than half a unit's size when groups are large.
                if got > 0 and got + size - want > want - got:
                    break
                for i in members[units[pos]]:
                    out[i] = name
                got += size
                pos += 1
    return out


def _largest_remainder(counts: np.ndarray, n: int) -> np.ndarray:
    """Integer allocation of ``n`` proportional to ``counts`` (largest remainder), at least 1 per class."""
    total = counts.sum()
    raw = counts * (n / total)
    alloc = np.floor(raw).astype(np.int64)
    alloc = np.maximum(alloc, np.minimum(1, counts))
    while alloc.sum() > n:
        k = int(np.argmax(alloc))
        alloc[k] -= 1
    remainder = raw - np.floor(raw)
    for k in np.argsort(-remainder, kind="stable"):
        if alloc.sum() >= n:
            break
        if alloc[k] < counts[k]:
            alloc[k] += 1
    while alloc.sum() < n:  # classes exhausted in the remainder pass: fill wherever room is left
        k = int(np.argmax(counts - alloc))
        alloc[k] += 1
    return np.minimum(alloc, counts)


def stratified_subsample(labels: Sequence[int] | np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices (sorted) of a stratified random subsample of ``n`` examples.

    Class ``c`` keeps ``n * n_c / N`` examples (largest-remainder rounding; at least one per present class).
    If ``n >= N`` all indices are returned.
    """
    y = _as_labels(labels)
    if n < 1:
        raise ValueError("subsample size must be >= 1")
    if n >= len(y):
        return np.arange(len(y), dtype=np.int64)
    classes = np.unique(y)
    counts = np.array([(y == c).sum() for c in classes], dtype=np.int64)
    alloc = _largest_remainder(counts, n)
    rng = np.random.default_rng(seed)
    chosen = []
    for c, k in zip(classes, alloc, strict=True):
        idx = np.flatnonzero(y == c)
        chosen.append(rng.permutation(idx)[:k])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def stratified_partition(
    labels: Sequence[int] | np.ndarray,
    parts: int,
    seed: int,
    groups: Sequence[object] | None = None,
) -> list[np.ndarray]:
    """``parts`` disjoint index arrays (each sorted) covering all examples, stratified by class.

    Within each class, shuffled units go one by one to the part that holds the fewest examples of that
    class so far (ties -> lowest part number), so class counts differ by at most one unit size per part.
    """
    y = _as_labels(labels)
    if parts < 2:
        raise ValueError("parts must be >= 2")
    members, unit_class = _units(y, groups)
    rng = np.random.default_rng(seed)
    buckets: list[list[int]] = [[] for _ in range(parts)]
    for c in np.unique(unit_class):
        units = np.flatnonzero(unit_class == c)
        units = units[rng.permutation(len(units))]
        filled = np.zeros(parts, dtype=np.int64)
        for u in units:
            k = int(np.argmin(filled))
            buckets[k].extend(int(i) for i in members[u])
            filled[k] += len(members[u])
    return [np.sort(np.asarray(b, dtype=np.int64)) for b in buckets]


def _allocation(labels: np.ndarray, n: int) -> dict[int, int]:
    classes = np.unique(labels)
    counts = np.array([(labels == c).sum() for c in classes], dtype=np.int64)
    return {int(c): int(k) for c, k in zip(classes, _largest_remainder(counts, n), strict=True)}


def bottom_k_subsample(labels: Sequence[int] | np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices (sorted) of the stratified sample :class:`StreamingSample` draws, computed in memory.

    Example ``i`` gets key ``default_rng(seed).random(N)[i]``; class ``c`` keeps its ``k_c`` examples with
    the smallest keys (ties: the earlier example), ``k_c`` allocated as in :func:`stratified_subsample`.
    """
    y = _as_labels(labels)
    if n < 1:
        raise ValueError("subsample size must be >= 1")
    if n >= len(y):
        return np.arange(len(y), dtype=np.int64)
    keys = np.random.default_rng(seed).random(len(y))
    chosen = []
    for c, k in _allocation(y, n).items():
        idx = np.flatnonzero(y == c)
        chosen.append(idx[np.argsort(keys[idx], kind="stable")[:k]])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


class StreamingSample:
    """The :func:`bottom_k_subsample` of a stream, drawn in one pass with memory for ``n`` items per class.

    ``offer(label, item)`` for every item in order; ``result()`` gives the kept ``(label, item)`` pairs in
    offer order, and ``seen`` the number of items offered. Keys come from ``default_rng(seed).random``
    in blocks (the same sequence as one call for all items); each class keeps a max-heap of its ``n``
    smallest keys, and at the end the allocation over the final class counts decides how many it keeps.
    """

    _BLOCK = 4096

    def __init__(self, n: int, seed: int) -> None:
        if n < 1:
            raise ValueError("sample size must be >= 1")
        self.n = n
        self.seen = 0
        self._rng = np.random.default_rng(seed)
        self._keys = np.empty(0)
        self._heaps: dict[int, list[tuple[float, int, object]]] = {}
        self._counts: dict[int, int] = {}

    def offer(self, label: int, item: object) -> None:
        pos = self.seen % self._BLOCK
        if pos == 0:
            self._keys = self._rng.random(self._BLOCK)
        key = float(self._keys[pos])
        heap = self._heaps.setdefault(label, [])
        self._counts[label] = self._counts.get(label, 0) + 1
        entry = (-key, -self.seen, item)  # max-heap on (key, position): the worst kept item on top
        if len(heap) < self.n:
            heapq.heappush(heap, entry)
        elif entry > heap[0]:
            heapq.heapreplace(heap, entry)
        self.seen += 1

    def result(self) -> list[tuple[int, object]]:
        labels = np.repeat(list(self._counts), list(self._counts.values()))
        alloc = _allocation(labels, self.n) if self.seen > self.n else dict(self._counts)
        kept: list[tuple[int, int, object]] = []
        for label, heap in self._heaps.items():
            best = sorted(heap, reverse=True)[: alloc.get(label, 0)]  # smallest keys first
            kept.extend((-neg_pos, label, item) for _, neg_pos, item in best)
        kept.sort(key=lambda t: t[0])
        return [(label, item) for _, label, item in kept]


# Which copy of a text found in several splits is kept: the evaluation split wins.
SPLIT_PRIORITY = {"test": 0, "dev": 1, "train": 2, "trainval": 2}


def leak_groups(texts: Sequence[str], groups: Sequence[object] | None) -> list[object]:
    """Keys that keep identical texts *and* equal group keys together (connected components).

    Without ``groups`` the texts themselves; with them, examples sharing a text or a group key get one
    key (the index of the component's first example), so no split can separate identical texts.
    """
    if groups is None:
        return list(texts)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for values in (texts, groups):
        first: dict[object, int] = {}
        for i, v in enumerate(values):
            j = first.setdefault(v, i)
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(len(texts))]


def cross_split_copies(keys: Sequence[object], splits: Sequence[str]) -> np.ndarray:
    """Boolean mask of the examples to drop so that no key is in two splits.

    A key found in several splits is kept only in the one of highest :data:`SPLIT_PRIORITY` (test, then
    dev, then train): its copies in the other splits are marked.
    """
    if len(keys) != len(splits):
        raise ValueError("keys and splits must have the same length")
    best: dict[object, int] = {}
    for k, s in zip(keys, splits, strict=True):
        rank = SPLIT_PRIORITY[s]
        if rank < best.get(k, 99):
            best[k] = rank
    return np.array([SPLIT_PRIORITY[s] > best[k] for k, s in zip(keys, splits, strict=True)], dtype=bool)
