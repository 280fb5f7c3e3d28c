"""Stratified split / subsample / partition: exact counts, determinism, groups kept together."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from jtask2vec.tasks.splits import stratified_partition, stratified_split, stratified_subsample


def _labels(n0: int, n1: int, seed: int = 0) -> np.ndarray:
    y = np.array([0] * n0 + [1] * n1)
    return y[np.random.default_rng(seed).permutation(len(y))]


@pytest.mark.parametrize(("n0", "n1"), [(100, 400), (37, 53), (5, 200)])
def test_split_counts_per_class_are_rounded_fractions(n0: int, n1: int) -> None:
    y = _labels(n0, n1)
    splits = np.asarray(stratified_split(y, 0.1, 0.2, seed=3))
    for c, n_c in ((0, n0), (1, n1)):
        in_c = splits[y == c]
        assert (in_c == "test").sum() == max(1, round(n_c * 0.2))
        assert (in_c == "dev").sum() == max(1, round(n_c * 0.1))
        assert (in_c == "train").sum() == n_c - max(1, round(n_c * 0.2)) - max(1, round(n_c * 0.1))


def test_split_is_deterministic_and_seed_dependent() -> None:
    y = _labels(60, 90)
    a = stratified_split(y, 0.1, 0.2, seed=1)
    assert a == stratified_split(y, 0.1, 0.2, seed=1)
    assert a != stratified_split(y, 0.1, 0.2, seed=2)


def test_split_keeps_groups_together() -> None:
    y = _labels(80, 120, seed=4)
    groups = [i // 3 if i < 90 else i for i in range(len(y))]  # 30 triples, then singletons
    y = y.copy()
    for g in range(30):  # a group shares its label
        y[3 * g : 3 * g + 3] = y[3 * g]
    splits = stratified_split(y, 0.1, 0.2, seed=0, groups=groups)
    by_group: dict[int, set[str]] = {}
    for g, s in zip(groups, splits, strict=True):
        by_group.setdefault(g, set()).add(s)
    assert all(len(v) == 1 for v in by_group.values())
    counts = Counter(splits)
    assert abs(counts["test"] - 40) <= 3 and abs(counts["dev"] - 20) <= 3


def test_split_zero_dev_fraction_leaves_dev_empty() -> None:
    splits = stratified_split(_labels(20, 20), 0.0, 0.25, seed=0)
    assert Counter(splits) == {"train": 30, "test": 10}


def test_split_rejects_bad_fractions() -> None:
    with pytest.raises(ValueError):
        stratified_split([0, 1, 0, 1], 0.5, 0.5, seed=0)


@pytest.mark.parametrize("n", [10, 101, 333])
def test_subsample_is_stratified_sorted_and_unique(n: int) -> None:
    y = _labels(150, 350)
    idx = stratified_subsample(y, n, seed=0)
    assert len(idx) == n == len(set(idx.tolist()))
    assert np.all(np.diff(idx) > 0)
    share = y[idx].mean()
    assert abs(share - 0.7) <= 1.0 / n + 1e-9
    assert np.array_equal(idx, stratified_subsample(y, n, seed=0))
    assert not np.array_equal(idx, stratified_subsample(y, n, seed=1))


def test_subsample_keeps_a_rare_class_and_returns_all_when_n_is_large() -> None:
    y = _labels(2, 500)
    assert set(y[stratified_subsample(y, 20, seed=0)].tolist()) == {0, 1}
    assert np.array_equal(stratified_subsample(y, 10_000, seed=0), np.arange(len(y)))


def test_partition_is_disjoint_covering_and_balanced() -> None:
    y = _labels(100, 401)
    parts = stratified_partition(y, 3, seed=0)
    allidx = np.concatenate(parts)
    assert sorted(allidx.tolist()) == list(range(len(y)))
    for c in (0, 1):
        sizes = [int((y[p] == c).sum()) for p in parts]
        assert max(sizes) - min(sizes) <= 1
    assert [p.tolist() for p in parts] == [p.tolist() for p in stratified_partition(y, 3, seed=0)]


def test_partition_keeps_groups_in_one_part() -> None:
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0])
    groups = ["a", "a", "b", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
    parts = stratified_partition(y, 2, seed=5, groups=groups)
    where = {i: k for k, p in enumerate(parts) for i in p.tolist()}
    assert where[0] == where[1] and where[2] == where[3]
