"""Fine-tuning: metrics, batching, determinism, caching, checkpoints (tiny random BERT, synthetic tasks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from jtask2vec.config import TrainingConfig
from jtask2vec.errors import ConfigError, DataError, ProbeError
from jtask2vec.jobs.checkpoints import load_classifier, save_classifier
from jtask2vec.jobs.keys import finetune_key
from jtask2vec.jobs.stages import finetune, load_finetuned
from jtask2vec.model import training as training_module
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.predict import (
    bucketed_batches,
    classification_metrics,
    collate,
    evaluate_classifier,
    tokenize,
)
from jtask2vec.model.probes import load_probe
from jtask2vec.model.training import FinetuneResult
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.synthetic import make_synthetic_task

FAST = TrainingConfig(epochs=5, learning_rate=3e-3, batch_size=16, warmup_ratio=0.1)


@pytest.fixture(scope="module")
def task():
    return make_synthetic_task("keywords", n=400, seed=1, signal="keyword", noise=0.05)


def _numbers(result: FinetuneResult) -> dict:
    out = result.to_dict()
    for timing in ("train_seconds", "examples_per_second"):
        out.pop(timing)
    return out


# ---- metrics and batching -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(50) < 0.8).astype(int)
    p = (rng.random(50) < 0.6).astype(int)
    if seed == 4:
        p[:] = 1  # one class never predicted: F1 of class 0 is 0
    got = classification_metrics(y, p)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert got["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", labels=[0, 1], zero_division=0))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p))
    assert got["n"] == 50


def test_metrics_single_class_and_empty():
    got = classification_metrics([1, 1, 1], [1, 0, 1])
    assert got["balanced_accuracy"] == pytest.approx(2 / 3)  # recall over the classes present only
    assert math.isnan(classification_metrics([], [])["accuracy"])


def test_bucketed_batches_cover_every_index_once_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=1000)
    batches = bucketed_batches(lengths, 8, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    assert all(len(b) <= 8 for b in batches)
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    naive = np.mean([np.ptp(lengths[rng.permutation(1000)[:8]]) for _ in range(100)])
    assert spread < naive / 4  # batches hold texts of similar length


def test_collate_pads_right_with_mask():
    batch = collate([[5, 6, 7], [8]], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_batched_padded_logits_equal_one_by_one_reference_float64(tiny_probe, task, pooling):
    """Dynamic padding + length sorting must not change a single logit (reference: one text at a time)."""
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), pooling).double().eval()
    texts = task.texts[:20]
    ids = tokenize(tiny_probe.tokenizer, texts, 64)
    with torch.no_grad():
        batched = model(**collate(ids, tiny_probe.tokenizer.pad_token_id))
        single = torch.cat([model(**collate([x], tiny_probe.tokenizer.pad_token_id)) for x in ids])
    torch.testing.assert_close(batched, single, rtol=1e-10, atol=1e-10)
    labels = task.labels[:20]
    metrics = evaluate_classifier(model.float(), tiny_probe.tokenizer, texts, labels, 64, batch_size=7)
    expected = classification_metrics(labels, single.argmax(-1).numpy())
    assert metrics == expected


# ---- fine-tuning ----------------------------------------------------------------------------------------
def test_finetune_beats_chance_and_reports_sizes(tiny_probe, task):
    result = finetune(task, tiny_probe, FAST, seed=0, progress=False)
    assert result.accuracy > 0.75, result
    assert result.macro_f1 > 0.7
    sizes = task.split_sizes()
    assert (result.n_train, result.n_dev, result.n_test) == (sizes["train"], sizes["dev"], sizes["test"])
    assert 1 <= result.best_epoch <= FAST.epochs
    assert result.source is None
    assert result.examples_per_second > 0


def test_unlearnable_task_stays_near_chance(tiny_probe):
    noise = make_synthetic_task("coin", n=300, seed=3, signal="none")
    result = finetune(noise, tiny_probe, FAST, seed=0, progress=False)
    assert result.balanced_accuracy < 0.7  # no leak of test labels into training


def test_same_seed_same_numbers_and_weights(tiny_probe, task, tmp_path):
    a_store, b_store = ArtifactStore(tmp_path / "a"), ArtifactStore(tmp_path / "b")
    quick = FAST.model_copy(update={"epochs": 2})
    a = finetune(task, tiny_probe, quick, seed=7, store=a_store, progress=False)
    b = finetune(task, tiny_probe, quick, seed=7, store=b_store, progress=False)
    assert _numbers(a) == _numbers(b)
    ma, _, _ = load_finetuned(a_store, a.checkpoint_key)
    mb, _, _ = load_finetuned(b_store, b.checkpoint_key)
    for (name, pa), (_, pb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert torch.equal(pa, pb), name
    c = finetune(task, tiny_probe, quick, seed=8, store=a_store, progress=False)
    mc, _, _ = load_finetuned(a_store, c.checkpoint_key)
    assert not torch.equal(ma.head.weight, mc.head.weight)


def test_finetune_leaves_global_rng_alone(tiny_probe, task):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    finetune(task, tiny_probe, TrainingConfig(epochs=1, batch_size=32), seed=0, progress=False)
    assert torch.equal(before, torch.random.get_rng_state())


def test_train_subsample_is_stratified_and_seeded(tiny_probe, task):
    config = FAST.model_copy(update={"train_subsample": 60, "epochs": 1})
    result = finetune(task, tiny_probe, config, seed=0, progress=False)
    assert result.n_train == 60
    assert finetune_key(task, tiny_probe, config, 0) != finetune_key(task, tiny_probe, FAST, 0)


def test_store_reuses_result_without_training(tiny_probe, task, tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path / "store")
    first = finetune(task, tiny_probe, FAST, seed=0, store=store, progress=False)
    assert first.checkpoint_key == finetune_key(task, tiny_probe, FAST, 0)
    assert store.exists("finetune", first.checkpoint_key)

    def boom(*args, **kwargs):
        raise AssertionError("a cached fine-tune must not train again")

    monkeypatch.setattr(training_module, "train_classifier", boom)
    again = finetune(task, tiny_probe, FAST, seed=0, store=store, progress=False)
    assert again == first
    other = FAST.model_copy(update={"learning_rate": 1e-3, "epochs": 1})
    with pytest.raises(AssertionError, match="must not train"):
        finetune(task, tiny_probe, other, seed=0, store=store, progress=False)


def test_a_publish_that_fails_midway_leaves_no_debris(tiny_probe, task, tmp_path, monkeypatch):
    """The failure happens inside the staging folder, after a file was written there."""
    store = ArtifactStore(tmp_path / "store")
    written = []

    def save_then_fail(model, tokenizer, folder, meta, **options):
        (folder / "model.safetensors").write_bytes(b"half a checkpoint")
        written.append(folder)
        raise OSError("disk full")

    monkeypatch.setattr("jtask2vec.jobs.checkpoints.save_classifier", save_then_fail)
    config = FAST.model_copy(update={"epochs": 1})
    with pytest.raises(OSError, match="disk full"):
        finetune(task, tiny_probe, config, seed=0, store=store, progress=False)
    assert written and not written[0].exists()  # the staging folder existed, and is gone
    assert not store.exists("finetune", finetune_key(task, tiny_probe, config, 0))
    assert list((tmp_path / "store" / "finetune").glob(".staging-*")) == []


def test_checkpoint_round_trip_and_loads_as_probe(tiny_probe, task, tmp_path):
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), "cls").eval()
    save_classifier(model, tiny_probe.tokenizer, tmp_path / "ckpt", {"task": "x"})
    assert not list((tmp_path / "ckpt").glob("*.bin")) and not list((tmp_path / "ckpt").glob("*.pt*"))
    loaded, tokenizer, meta = load_classifier(tmp_path / "ckpt")
    assert meta["task"] == "x" and meta["pooling"] == "cls" and meta["num_labels"] == 2
    batch = collate(tokenize(tokenizer, task.texts[:5], 64), tokenizer.pad_token_id)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch), model(**batch), rtol=0, atol=0)
    as_probe = load_probe(str(tmp_path / "ckpt"))
    assert as_probe.pooling == "cls"
    with pytest.raises(ProbeError, match="not a fine-tuned classifier folder"):
        load_classifier(tmp_path)


def test_bad_inputs_raise_clear_errors(tiny_probe, task):
    bad = task.subset(np.arange(len(task)))
    object.__setattr__(bad, "labels", np.where(np.arange(len(task)) == 4, 2, task.labels))
    with pytest.raises(DataError, match="label 2 of example 4"):
        finetune(bad, tiny_probe, FAST, seed=0, progress=False)
    with pytest.raises(ConfigError, match="needs the artifact store"):
        finetune(task, tiny_probe, FAST, seed=0, init_from="abc", progress=False)
    no_test = task.with_splits(["train"] * len(task))
    with pytest.raises(DataError, match="needs train and test"):
        finetune(no_test, tiny_probe, FAST, seed=0, progress=False)


def test_progress_is_silent_without_a_terminal(tiny_probe, task, capsys):
    finetune(task, tiny_probe, TrainingConfig(epochs=1), seed=0, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.realdata
def test_offline_probe_learns_real_jrte_pn(shared_data_dir):
    """A short fine-tune of ja-imitator on 600 jrte-pn sentences beats chance on both classes."""
    from jtask2vec.config import TaskSpec
    from jtask2vec.tasks import load_task

    task = load_task(TaskSpec(name="jrte-pn", loader="jrte-pn"), shared_data_dir)
    probe = load_probe("ja-imitator")
    config = TrainingConfig(epochs=3, learning_rate=3e-3, batch_size=16, train_subsample=600)
    result = finetune(task, probe, config, seed=0, progress=False)
    assert result.n_train == 600
    assert result.balanced_accuracy > 0.62, result  # chance: 0.5 (majority class: 0.81 accuracy)
