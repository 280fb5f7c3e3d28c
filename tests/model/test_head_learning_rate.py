"""`training.head_learning_rate`: the fresh head trains at its own rate; unset, keys stay as before."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from jtask2vec.config import TrainingConfig
from jtask2vec.jobs.keys import finetune_key
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.predict import tokenize
from jtask2vec.model.training import train_classifier
from jtask2vec.tasks.synthetic import make_synthetic_task

PROBE = SimpleNamespace(fingerprint="tiny-random-bert-seed0", pooling="cls", max_length=32)


@pytest.fixture(scope="module")
def task():
    return make_synthetic_task("keywords", n=60, seed=1, signal="keyword", noise=0.05)


def test_unset_head_learning_rate_keeps_the_keys_of_stores_filled_before_it(task):
    # computed by the code before the field existed (commit df11fd1): those fine-tunes stay valid
    assert finetune_key(task, PROBE, TrainingConfig(), 0) == "de012d12ac8ae67c"
    recipe = TrainingConfig(learning_rate=5e-5, epochs=3)
    assert finetune_key(task, PROBE, recipe, 1, "abc") == "c5f39195d39526ec"
    with_head = TrainingConfig(learning_rate=5e-5, epochs=3, head_learning_rate=1e-3)
    assert finetune_key(task, PROBE, with_head, 1, "abc") != "c5f39195d39526ec"


def _trained(tiny_probe, task, training: TrainingConfig) -> tuple[float, float]:
    """Largest absolute change of an encoder weight and of a head weight after training."""
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling, dropout=0.0)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    ids = tokenize(tiny_probe.tokenizer, list(task.texts), 32)
    train_classifier(
        model, tiny_probe.tokenizer, ids, task.labels, [], np.array([]), training,
        np.random.default_rng(0), progress=False,
    )  # fmt: skip
    change = {k: float((v - before[k]).abs().max()) for k, v in model.state_dict().items()}
    encoder = max(v for k, v in change.items() if k.startswith("encoder."))
    head = max(v for k, v in change.items() if k.startswith("head."))
    return encoder, head


def test_the_head_trains_at_its_own_learning_rate(tiny_probe, task):
    base = dict(epochs=2, learning_rate=1e-7, batch_size=16, warmup_ratio=0.0, weight_decay=0.0)
    encoder, head = _trained(tiny_probe, task, TrainingConfig(**base, head_learning_rate=1e-2))
    assert encoder < 1e-5 and head > 1e-3  # AdamW steps are about one learning rate each
    encoder_same, head_same = _trained(tiny_probe, task, TrainingConfig(**base))
    assert encoder_same < 1e-5 and head_same < 1e-5
