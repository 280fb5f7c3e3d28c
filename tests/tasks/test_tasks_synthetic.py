"""Synthetic tasks: deterministic, tiny vocabulary, stratified, learnable exactly when they should be."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from jtask2vec.model.probes.tiny import _tiny_charset
from jtask2vec.tasks import SPLITS
from jtask2vec.tasks.synthetic import STYLES, make_synthetic_task


def _probe_accuracy(task) -> float:
    vec = CountVectorizer(analyzer="char", ngram_range=(1, 3))
    x_train = vec.fit_transform(task.texts_of("train"))
    clf = LogisticRegression(max_iter=2000).fit(x_train, task.labels_of("train"))
    return float((clf.predict(vec.transform(task.texts_of("test"))) == task.labels_of("test")).mean())


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("signal", ["keyword", "topic", "length", "none"])
def test_texts_use_only_the_tiny_vocabulary_and_splits_are_stratified(style: str, signal: str) -> None:
    task = make_synthetic_task(n=120, seed=3, style=style, signal=signal)
    charset = set(_tiny_charset())
    assert {c for t in task.texts for c in t} <= charset
    assert len(task) == 120
    for split in SPLITS:
        counts = task.class_counts(split)
        assert min(counts.values()) >= 1, (split, counts)
    assert set(task.labels.tolist()) == {0, 1}


def test_same_seed_same_task_other_seed_other_task() -> None:
    a = make_synthetic_task(seed=5)
    b = make_synthetic_task(seed=5)
    c = make_synthetic_task(seed=6)
    assert a.data_hash == b.data_hash
    assert a.data_hash != c.data_hash


@pytest.mark.parametrize("signal", ["keyword", "topic", "length"])
def test_learnable_signals_are_learned_and_none_is_not(signal: str) -> None:
    learnable = make_synthetic_task(n=400, seed=0, signal=signal, noise=0.05)
    assert _probe_accuracy(learnable) > 0.8
    control = make_synthetic_task(n=400, seed=0, signal="none")
    assert _probe_accuracy(control) < 0.7


def test_noise_flips_about_the_requested_fraction() -> None:
    clean = make_synthetic_task(n=1000, seed=2, noise=0.0)
    noisy = make_synthetic_task(n=1000, seed=2, noise=0.2)
    assert clean.texts == noisy.texts
    flipped = float(np.mean(clean.labels != noisy.labels))
    assert 0.15 < flipped < 0.25


def test_stand_in_is_recorded() -> None:
    task = make_synthetic_task(stand_in_for="rakuten.1")
    assert task.stand_in_for == "rakuten.1"
    assert any("rakuten.1" in note for note in task.provenance.notes)
