"""`training.class_weight`: balanced cross-entropy for small imbalanced tasks; unset, keys stay as before."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from jtask2vec.config import TrainingConfig
from jtask2vec.jobs.keys import finetune_key
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.predict import collate, tokenize
from jtask2vec.model.training import balanced_class_weights, train_classifier
from jtask2vec.tasks.synthetic import make_synthetic_task

PROBE = SimpleNamespace(fingerprint="tiny-random-bert-seed0", pooling="cls", max_length=32)


def test_unset_class_weight_keeps_the_keys_of_stores_filled_before_it():
    task = make_synthetic_task("keywords", n=60, seed=1, signal="keyword", noise=0.05)
    # the same keys as test_head_learning_rate's, computed before either field existed
    assert finetune_key(task, PROBE, TrainingConfig(), 0) == "de012d12ac8ae67c"
    assert finetune_key(task, PROBE, TrainingConfig(class_weight="none"), 0) == "de012d12ac8ae67c"
    assert finetune_key(task, PROBE, TrainingConfig(class_weight="balanced"), 0) != "de012d12ac8ae67c"


@pytest.mark.parametrize("seed", range(5))
def test_balanced_weights_give_every_class_the_same_total_weight(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    labels = rng.choice(k, size=int(rng.integers(5, 300)), p=rng.dirichlet(np.ones(k)))
    weights = balanced_class_weights(labels, k)
    assert weights.dtype == np.float32
    counts = np.bincount(labels, minlength=k)
    present = counts > 0
    # float64 reference: n / (k_present * n_c); every present class then weighs n / k_present in all
    reference = np.where(present, len(labels) / (present.sum() * np.maximum(counts, 1)), 0.0)
    np.testing.assert_allclose(weights, reference, rtol=1e-6)
    totals = np.bincount(labels, weights=weights[labels].astype(np.float64), minlength=k)
    np.testing.assert_allclose(totals[present], len(labels) / present.sum(), rtol=1e-5)
    assert np.all(weights[~present] == 0)


def _minority_probability(tiny_probe, class_weight: str) -> float:
    """Mean predicted probability of the minority class, on a noise task with 10 % minority labels, after
    training on it: the prior each loss calibrates to (unweighted: 0.1; balanced: 0.5)."""
    texts = list(make_synthetic_task("coin", n=300, seed=3, signal="none").texts)
    labels = (np.random.default_rng(3).random(len(texts)) < 0.1).astype(np.int64)  # independent of the text
    assert 0.05 < labels.mean() < 0.15
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling, dropout=0.0)
    ids = tokenize(tiny_probe.tokenizer, texts, 32)
    training = TrainingConfig(epochs=3, learning_rate=1e-4, head_learning_rate=1e-2, batch_size=16,
                              class_weight=class_weight)  # fmt: skip
    train_classifier(
        model, tiny_probe.tokenizer, ids, labels, [], np.array([]), training,
        np.random.default_rng(0), progress=False,
    )  # fmt: skip
    model.eval()
    with torch.no_grad():
        logits = model(**collate(ids, tiny_probe.tokenizer.pad_token_id, torch.device("cpu")))
    return float(torch.softmax(logits.double(), -1)[:, 1].mean())


def test_balanced_weights_pull_an_imbalanced_task_off_its_majority_class(tiny_probe):
    # Labels are noise, so each loss can only learn a prior: the unweighted one the 10 % of the data (so
    # argmax always says majority), the balanced one 50 %. Measured: 0.04 and 0.38 after 57 steps.
    unweighted = _minority_probability(tiny_probe, "none")
    balanced = _minority_probability(tiny_probe, "balanced")
    assert unweighted < 0.15, unweighted
    assert balanced > 0.3, balanced
