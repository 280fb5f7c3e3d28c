"""Reductions (hand-checked), `embed_task`, save/load, and the trivial embedding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from jtask2vec.config import FisherConfig
from jtask2vec.fisher.embedding import embed_task, trivial_embedding
from jtask2vec.fisher.reductions import filter_vector, hidden_vector
from jtask2vec.fisher.scopes import layer_key
from jtask2vec.jobs.embedding_files import load_embedding, save_embedding
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.tasks.synthetic import make_synthetic_task


def test_filter_reduction_hand_checked():
    fisher = {
        "w": torch.tensor([[1.0, 3.0], [2.0, 2.0], [0.0, 6.0]]),  # Linear (out=3, in=2): mean over in
        "b": torch.tensor([5.0, 7.0, 9.0]),
        "emb": torch.tensor([[1.0, 2.0], [3.0, 4.0]]),  # table (vocab, hidden): mean over vocab
    }
    got = filter_vector(fisher, tables={"emb"})
    np.testing.assert_allclose(got, [2, 2, 3, 5, 7, 9, 2, 3])


def test_hidden_reduction_hand_checked():
    h = 2
    fisher = {
        "square": torch.tensor([[1.0, 2.0], [3.0, 4.0]]),  # both axes: rows sum (3, 7), cols sum (4, 6)
        "ffn": torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 2.0]]),  # (3, h): col sums (3, 2)
        "bias": torch.tensor([10.0, 20.0]),
        "other": torch.ones(3),  # no axis of size h: ignored
    }
    # per j: (3+4+3+10, 7+6+2+20) / (2 + 2 + 3 + 1)
    np.testing.assert_allclose(hidden_vector(fisher, h), [20 / 8, 35 / 8])


def test_layer_keys():
    assert layer_key("encoder.encoder.layer.11.output.dense.weight") == "layer.11"
    assert layer_key("encoder.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight") == "layer.0"
    assert layer_key("encoder.embeddings.LayerNorm.weight") == "embeddings"
    assert layer_key("encoder.encoder.embedding_hidden_mapping_in.weight") == "other"


@pytest.fixture(scope="module")
def task():
    return make_synthetic_task("t", n=40, seed=1)


@pytest.fixture(scope="module")
def model(tiny_probe):
    torch.manual_seed(0)
    return EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling)


@pytest.mark.parametrize("reduction", ["hidden", "filter", "activation"])
def test_embed_task_and_round_trip(tiny_probe, task, model, reduction, tmp_path):
    config = FisherConfig(reduction=reduction, max_examples=12, save_raw=True)
    emb = embed_task(model, tiny_probe.tokenizer, task, config, 32, seed=0, probe_name=tiny_probe.name)
    hidden = tiny_probe.hidden_size
    if reduction in ("hidden", "activation"):
        assert emb.vector.shape == (hidden,)
    if reduction == "hidden":
        assert set(emb.layers) == {"embeddings", "layer.0", "layer.1"}
        assert all(v.shape == (hidden,) for v in emb.layers.values())
    if reduction == "filter":
        assert len(emb.vector) == sum(len(v) for v in emb.layers.values())
    assert np.isfinite(emb.vector).all() and (emb.vector >= 0).all() and emb.vector.sum() > 0
    meta = emb.meta
    assert meta["task_data_hash"] == task.data_hash and meta["num_examples"] == 12
    assert meta["estimator"] == "exact" and meta["reduction"] == reduction and meta["seed"] == 0
    back = load_embedding(save_embedding(emb, tmp_path / "e"))
    np.testing.assert_array_equal(back.vector, emb.vector)
    assert back.meta == meta and set(back.layers) == set(emb.layers)
    if reduction != "activation":
        assert back.raw is not None and set(back.raw) == set(emb.raw)


def test_embedding_is_seeded_and_depends_on_the_task(tiny_probe, task, model):
    config = FisherConfig(estimator="montecarlo", max_examples=10)
    one = embed_task(model, tiny_probe.tokenizer, task, config, 32, seed=3, probe_name="p")
    two = embed_task(model, tiny_probe.tokenizer, task, config, 32, seed=3, probe_name="p")
    np.testing.assert_array_equal(one.vector, two.vector)
    other = make_synthetic_task("u", n=40, seed=2, style="news")
    three = embed_task(model, tiny_probe.tokenizer, other, config, 32, seed=3, probe_name="p")
    assert not np.allclose(one.vector, three.vector)


def test_trivial_embedding(tiny_probe, task):
    config = FisherConfig(max_examples=8)
    t0 = trivial_embedding(
        tiny_probe.encoder, tiny_probe.pooling, tiny_probe.tokenizer, list(task.texts[:8]), config, 32,
        seed=0, probe_name=tiny_probe.name,
    )  # fmt: skip
    assert t0.meta["trivial"] and t0.vector.shape == (tiny_probe.hidden_size,)
    assert all(p.grad is None for p in tiny_probe.encoder.parameters())


SUITE = """
name: tiny-embed
tasks:
  - {name: kw-hotel, loader: synthetic, options: {n: 40, seed: 1, style: hotel}}
  - {name: kw-food, loader: synthetic, options: {n: 40, seed: 2, style: food}}
  - {name: topic, loader: synthetic, options: {n: 40, seed: 3, signal: topic}}
probe: {name: tiny-random-bert, max_length: 32}
training: {epochs: 1, batch_size: 16}
fisher: {max_examples: 16}
seeds: [0]
"""


def test_cli_embed_and_similarity(tmp_path):
    from typer.testing import CliRunner

    from jtask2vec.cli import app

    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    runs = tmp_path / "runs"
    runner = CliRunner()
    common = ["--suite", str(suite), "--runs-dir", str(runs), "--no-progress"]
    result = runner.invoke(app, ["embed", *common])
    assert result.exit_code == 0, result.output
    assert len(list((runs / "store" / "embedding").iterdir())) == 3
    table = (runs / "tiny-embed" / "embeddings.csv").read_text(encoding="utf-8")
    assert "kw-food" in table
    for distance in ("asymmetric", "cosine"):
        result = runner.invoke(app, ["similarity", *common, "--distance", distance])
        assert result.exit_code == 0, result.output
        matrix = pd.read_csv(runs / "tiny-embed" / f"similarity-{distance}-seed0.csv", index_col=0)
        assert list(matrix.index) == ["kw-hotel", "kw-food", "topic"] == list(matrix.columns)
        assert (runs / "tiny-embed" / f"similarity-{distance}-seed0.png").stat().st_size > 1000
    assert (runs / "tiny-embed" / "similarity-cosine-similarity-seed0.csv").is_file()
    result = runner.invoke(app, ["similarity", *common, "--distance", "euclid"])
    assert result.exit_code == 2 and "unknown distance" in result.output
