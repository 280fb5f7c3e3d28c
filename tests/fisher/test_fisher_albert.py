"""The offline ALBERT probe (4 layers sharing one set of weights): every path equals the loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jtask2vec.config import FisherConfig
from jtask2vec.fisher import diagonal_fisher
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.probes import load_probe

TEXTS = ["駅の前の店は美味しい。", "部屋が狭い", "今日は良い天気ですね。"]


@pytest.fixture(scope="module")
def albert():
    probe = load_probe("ja-imitator")
    torch.manual_seed(0)
    model = EncoderClassifier(probe.fresh_encoder(), probe.pooling).double()
    with torch.no_grad():
        model.head.weight.normal_(0, 0.5)
    return model, probe.tokenizer


@pytest.mark.parametrize("method", ["vmap", "hooks"])
@pytest.mark.parametrize("scope", ["encoder", "all"])
def test_albert_shared_weights_equal_the_loop(albert, method, scope):
    model, tok = albert
    config = FisherConfig(estimator="exact", scope=scope, batch_size=2)
    got = diagonal_fisher(model, tok, TEXTS, None, config, 32, method=method)
    want = diagonal_fisher(model, tok, TEXTS, None, config, 32, method="loop")
    assert any("albert_layer_groups.0" in n for n in got)
    scale = max(float(v.abs().max()) for v in want.values())
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-6, atol=1e-12 * scale, msg=name)


def test_albert_empirical_hooks(albert):
    model, tok = albert
    config = FisherConfig(estimator="empirical", batch_size=3)
    labels = np.array([1, 0, 1])
    got = diagonal_fisher(model, tok, TEXTS, labels, config, 32, method="hooks")
    want = diagonal_fisher(model, tok, TEXTS, labels, config, 32, method="loop")
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-6, atol=1e-15)
