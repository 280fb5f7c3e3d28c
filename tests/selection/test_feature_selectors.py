"""The feature-based selector stage: one forward pass (last layer or mean over layers, plus the source
head's probabilities), every selector scored from it, cache keys that change with every input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jtask2vec.model.classifier import EncoderClassifier, encode_texts, pool
from jtask2vec.selection import (
    FEATURE_SELECTORS,
    extract_target_features,
    feature_selector_scores,
    logme,
    score_features,
)
from jtask2vec.selection.feature_based import VERSIONS
from jtask2vec.selection.hscore import hscore
from jtask2vec.selection.leep import leep

TEXTS = [
    "今日は良い天気です。",
    "最悪のサービスでした",
    "ふつう",
    "とても美味しいラーメン屋さんでした!",
    "a",
    "いい",
]
LABELS = np.array([1, 0, 0, 1, 0, 1])


@pytest.fixture(scope="module")
def model(tiny_probe):
    torch.manual_seed(0)
    m = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling)
    m.eval()
    return m


def _one_by_one(model, tokenizer, max_length):
    """Per text: every layer's hidden states from a separate call, pooled by hand."""
    last, mean, probs = [], [], []
    with torch.no_grad():
        for text in TEXTS:
            batch = encode_texts(tokenizer, [text], max_length)
            out = model.encoder(**batch, output_hidden_states=True)
            layers = out.hidden_states[1:]
            pooled = [pool(h, batch["attention_mask"], model.pooling)[0].double() for h in layers]
            mean.append(sum(pooled) / len(pooled))
            last.append(model.features(**batch)[0].double())
            probs.append(torch.softmax(model(**batch)[0].double(), dim=-1))
    return torch.stack(last).numpy(), torch.stack(mean).numpy(), torch.stack(probs).numpy()


def test_features_last_and_mean_and_probabilities(model, tiny_probe):
    last, mean, probs = _one_by_one(model, tiny_probe.tokenizer, tiny_probe.max_length)
    a = extract_target_features(model, tiny_probe.tokenizer, TEXTS, tiny_probe.max_length, 4, "last")
    b = extract_target_features(model, tiny_probe.tokenizer, TEXTS, tiny_probe.max_length, 4, "mean")
    assert a.features.dtype == np.float64 and a.features.shape == (len(TEXTS), tiny_probe.hidden_size)
    np.testing.assert_allclose(a.features, last, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.features, mean, rtol=1e-5, atol=1e-5)
    assert not np.allclose(a.features, b.features)  # the two choices differ
    np.testing.assert_allclose(a.probabilities, probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.probabilities, a.probabilities, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(a.probabilities.sum(axis=1), 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="layers"):
        extract_target_features(model, tiny_probe.tokenizer, TEXTS, tiny_probe.max_length, 4, "first")


def test_one_pass_scores_every_selector(model, tiny_probe, monkeypatch):
    calls = []
    import jtask2vec.selection.feature_based as fb

    real = fb.extract_target_features

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fb, "extract_target_features", counting)
    got = feature_selector_scores(
        model, tiny_probe.tokenizer, TEXTS, LABELS, FEATURE_SELECTORS, max_length=tiny_probe.max_length
    )
    assert len(calls) == 1 and set(got) == set(FEATURE_SELECTORS)
    feats = real(model, tiny_probe.tokenizer, TEXTS, tiny_probe.max_length)
    assert got["logme"].score == pytest.approx(logme(feats.features, LABELS), rel=1e-6)
    assert got["hscore"].score == pytest.approx(hscore(feats.features, LABELS), rel=1e-6)
    assert got["leep"].score == pytest.approx(leep(feats.probabilities, LABELS), rel=1e-6)
    assert all(np.isfinite(v.score) for v in got.values())
    # N = 6 ≤ D = 32: the covariance is singular, H-score says so; no other caveat
    assert {name: v.flag for name, v in got.items() if v.flag} == {"hscore": "rank-deficient"}
    with pytest.raises(ValueError, match="unknown"):
        score_features(["nope"], feats, LABELS)


def test_score_key_changes_with_every_input(tiny_probe, monkeypatch: pytest.MonkeyPatch):
    from jtask2vec.jobs import keys as store_keys
    from jtask2vec.tasks.synthetic import make_synthetic_task

    task = make_synthetic_task("t", n=40, seed=0)
    other = make_synthetic_task("t", n=40, seed=1)
    base = dict(checkpoint_key="ck", target=task, probe=tiny_probe, layers="last", seed=0)

    def key(selectors, **change) -> str:
        args = {**base, **change}
        checkpoint, target = args.pop("checkpoint_key"), args.pop("target")
        return store_keys.selector_scores_key(selectors, checkpoint, target, **args)

    everything = key(FEATURE_SELECTORS)
    assert key(list(reversed(FEATURE_SELECTORS))) == everything  # a set of selectors, not an order
    assert key(FEATURE_SELECTORS, checkpoint_key="ck2") != everything
    assert key(FEATURE_SELECTORS, target=other) != everything
    assert key(FEATURE_SELECTORS[:-1]) != everything  # one selector fewer
    for name in FEATURE_SELECTORS:
        with monkeypatch.context() as patch:
            patch.setitem(VERSIONS, name, "bumped")
            assert key(FEATURE_SELECTORS) != everything, name
    assert key(["hscore"], layers="mean") != key(["hscore"])
    assert key(["logme"], layers="mean") != key(["logme"])
    assert key(["leep"], layers="mean") == key(["leep"])  # probabilities: last layer only
    assert key(["nleep"], seed=1) != key(["nleep"])  # EM start
    assert key(["hscore"], seed=1) == key(["hscore"])
