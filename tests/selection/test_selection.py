"""Baseline selectors, the ranking object, text embeddings and fine-tuned features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jtask2vec.errors import DataError
from jtask2vec.model.classifier import EncoderClassifier, encode_texts
from jtask2vec.results import TABLE_COLUMNS
from jtask2vec.selection import (
    SELECTORS,
    datasize_scores,
    extract_features,
    random_scores,
    rank_sources,
    scores_table,
    text_embedding,
    textemb_scores,
)

TEXTS = ["今日は良い天気です。", "最悪のサービスでした", "ふつう", "とても美味しいラーメン屋さんでした!", "a"]


def test_selector_names() -> None:
    assert set(SELECTORS) == {
        "random", "datasize", "textemb", "logme", "hscore", "hscore-shrinkage", "leep", "nce", "nleep", "gbc",
        "transrate", "knn",
    }  # fmt: skip
    from typing import get_args

    from jtask2vec.config import SelectorName

    assert set(get_args(SelectorName)) == set(SELECTORS)  # every selector can be named in a suite


def test_random_scores_are_seeded_and_order_free() -> None:
    a = random_scores("t", ["s1", "s2", "s3", "t"], seed=0)
    assert set(a) == {"s1", "s2", "s3"}  # a task is never its own source
    assert a == random_scores("t", ["s3", "s1", "s2"], seed=0)
    assert a != random_scores("t", ["s1", "s2", "s3"], seed=1)
    assert a != random_scores("u", ["s1", "s2", "s3"], seed=0)
    assert all(0 <= v < 1 for v in a.values())


def test_random_scores_give_each_source_the_top_equally_often() -> None:
    sources = ["a", "b", "c", "d"]
    wins = {s: 0 for s in sources}
    for seed in range(2000):
        r = random_scores("t", sources, seed)
        wins[max(r, key=r.get)] += 1
    assert all(abs(w / 2000 - 0.25) < 0.04 for w in wins.values())


def test_datasize_scores() -> None:
    assert datasize_scores({"a": 10, "b": 300, "t": 5}, "t", ["a", "b", "t"]) == {"a": 10.0, "b": 300.0}
    with pytest.raises(DataError, match="'c'"):
        datasize_scores({"a": 10}, "t", ["a", "c"])


def test_textemb_scores_are_cosines() -> None:
    vectors = {"t": np.array([1.0, 0.0]), "a": np.array([2.0, 0.0]), "b": np.array([1.0, 1.0])}
    got = textemb_scores(vectors, "t", ["a", "b", "t"])
    assert got == pytest.approx({"a": 1.0, "b": 1 / np.sqrt(2)})
    with pytest.raises(DataError, match="target 'x'"):
        textemb_scores(vectors, "x", ["a"])


def test_scores_table_format() -> None:
    table = scores_table("datasize", 3, "t", {"a": 1.0, "b": 2.0})
    assert list(table.columns) == TABLE_COLUMNS["scores"]
    assert table.to_dict("records") == [
        {"selector": "datasize", "seed": 3, "target": "t", "source": "a", "score": 1.0},
        {"selector": "datasize", "seed": 3, "target": "t", "source": "b", "score": 2.0},
    ]


def test_rank_sources_orders_breaks_ties_by_name_and_prints() -> None:
    ranking = rank_sources({"c": 1.0, "b": 3.0, "x": float("nan"), "a": 3.0}, target="t", selector="sel")
    assert ranking.sources == ["a", "b", "c", "x"]
    assert ranking.best == "a" and ranking.top(2) == ["a", "b"] and len(ranking) == 4
    text = str(ranking)
    lines = text.splitlines()
    assert lines[0] == "selector sel, target t"
    assert lines[1].split() == ["rank", "source", "score"]
    assert lines[3].split() == ["1", "a", "3"]
    assert lines[-1].split() == ["4", "x", "nan"]
    assert list(ranking.to_frame()["source"]) == ranking.sources


def _slow_text_embedding(probe, texts: list[str]) -> np.ndarray:
    """One text at a time, no padding at all: mean of the token vectors, then mean over texts."""
    vectors = []
    with torch.no_grad():
        for text in texts:
            batch = encode_texts(probe.tokenizer, [text], probe.max_length)
            hidden = probe.encoder(**batch).last_hidden_state[0].double()
            vectors.append(hidden.mean(dim=0).numpy())
    return np.mean(vectors, axis=0)


def test_text_embedding_shape_determinism_and_slow_reference(tiny_probe) -> None:
    vec = text_embedding(tiny_probe, TEXTS, batch_size=2)
    assert vec.shape == (tiny_probe.hidden_size,) and vec.dtype == np.float64
    np.testing.assert_array_equal(vec, text_embedding(tiny_probe, TEXTS, batch_size=2))
    np.testing.assert_allclose(vec, text_embedding(tiny_probe, TEXTS, batch_size=64), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vec, _slow_text_embedding(tiny_probe, TEXTS), rtol=1e-5, atol=1e-6)
    assert not tiny_probe.encoder.training


def test_text_embedding_restores_training_mode(tiny_probe) -> None:
    tiny_probe.encoder.train()
    try:
        a = text_embedding(tiny_probe, TEXTS[:2])
        assert tiny_probe.encoder.training
        np.testing.assert_array_equal(a, text_embedding(tiny_probe, TEXTS[:2]))  # no dropout noise
    finally:
        tiny_probe.encoder.eval()
    with pytest.raises(ValueError, match="no texts"):
        text_embedding(tiny_probe, [])


def test_extract_features_shape_and_agreement_with_model_features(tiny_probe) -> None:
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling)
    model.train()
    feats = extract_features(model, tiny_probe.tokenizer, TEXTS, tiny_probe.max_length, batch_size=2)
    assert feats.shape == (len(TEXTS), tiny_probe.hidden_size)
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        for i, text in enumerate(TEXTS):
            single = model.features(**encode_texts(tiny_probe.tokenizer, [text], tiny_probe.max_length))
            np.testing.assert_allclose(feats[i], single[0].numpy(), rtol=1e-5, atol=1e-5)
    again = extract_features(model, tiny_probe.tokenizer, TEXTS, tiny_probe.max_length, batch_size=64)
    np.testing.assert_allclose(feats, again, rtol=1e-5, atol=1e-5)
