"""The loaders on the real corpora: the counts each SOURCE.md records (skipped when the data are absent)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from jtask2vec.tasks import SPLITS, load_task, task_spec

pytestmark = pytest.mark.realdata


def _no_text_in_two_splits(task) -> None:
    where: dict[str, set[str]] = {}
    for t, s in zip(task.texts, task.splits, strict=True):
        where.setdefault(t, set()).add(s)
    assert all(len(v) == 1 for v in where.values())


def test_chabsa_2813(shared_data_dir: Path) -> None:
    task = load_task(task_spec("chabsa"), shared_data_dir)
    assert len(task) == 2813 and task.class_counts() == {"negative": 1143, "positive": 1670}
    assert sum(c - 1 for c in Counter(task.texts).values()) == 6
    assert all("\n" not in t for t in task.texts)
    _no_text_in_two_splits(task)
    assert len(load_task(task_spec("chabsa", dedupe=True), shared_data_dir)) == 2807
    strict = load_task(task_spec("chabsa", rule="unanimous"), shared_data_dir)
    assert strict.class_counts() == {"negative": 933, "positive": 1397}


def test_jrte_pn_4224_and_corpus_split(shared_data_dir: Path) -> None:
    task = load_task(task_spec("jrte-pn"), shared_data_dir)
    assert len(task) == 4224 and task.class_counts() == {"negative": 818, "positive": 3406}
    corpus = load_task(task_spec("jrte-pn", split={"use_corpus_split": True}), shared_data_dir)
    assert corpus.split_sizes() == {"train": 2959, "dev": 851, "test": 414}
    assert corpus.class_counts("test") == {"negative": 78, "positive": 336}
    assert len(load_task(task_spec("jrte-pn", unanimous=True), shared_data_dir)) == 3437


def test_jrte_rhr_5553_and_shared_test_set(shared_data_dir: Path) -> None:
    task = load_task(task_spec("jrte-rhr"), shared_data_dir)
    assert len(task) == 5553 and task.class_counts() == {"not-reputation": 2069, "reputation": 3484}
    rhr = load_task(
        task_spec("jrte-rhr", split={"use_corpus_split": True}, corpus_dev="trainval"), shared_data_dir
    )
    pn = load_task(
        task_spec("jrte-pn", split={"use_corpus_split": True}, corpus_dev="trainval"), shared_data_dir
    )
    rhr_test = set(rhr.texts_of("test"))
    assert len(rhr_test) == 553
    assert set(pn.texts_of("test")) <= rhr_test
    assert not (set(pn.texts_of("train")) | set(pn.texts_of("dev"))) & rhr_test


def test_livedoor_1764(shared_data_dir: Path) -> None:
    task = load_task(task_spec("livedoor"), shared_data_dir)
    assert len(task) == 1764 and task.class_counts() == {"kaden-channel": 864, "sports-watch": 900}
    assert not any(t.startswith("http") for t in task.texts)
    other = load_task(
        task_spec("livedoor", categories="dokujo-tsushin,topic-news", text="body"), shared_data_dir
    )
    assert other.class_counts() == {"dokujo-tsushin": 870, "topic-news": 770}
    _no_text_in_two_splits(other)  # the 3 identical-body pairs stay together


def test_three_disjoint_jrte_stand_ins(shared_data_dir: Path) -> None:
    parts = [
        load_task(
            task_spec("jrte-pn", partition={"parts": 3, "index": k}, max_examples=1000), shared_data_dir
        )
        for k in range(3)
    ]
    assert [len(p) for p in parts] == [1000, 1000, 1000]
    sets = [set(p.texts) for p in parts]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    for p in parts:
        assert abs(float(np.mean(p.labels)) - 3406 / 4224) < 0.01
        assert all(min(p.class_counts(s).values()) > 0 for s in SPLITS)
