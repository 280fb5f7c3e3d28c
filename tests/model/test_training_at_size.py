"""Fine-tuning at size (issue 18): frozen word embeddings, delta checkpoints, metrics-only transfer cells,
bf16 autocast, tokenisation once per task and probe."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jtask2vec.config import ProbeConfig, TrainingConfig
from jtask2vec.errors import ProbeError
from jtask2vec.jobs.checkpoints import DELTA_FILE, load_classifier
from jtask2vec.jobs.keys import finetune_key
from jtask2vec.jobs.stages import finetune, finetuned_folder, load_finetuned
from jtask2vec.jobs.transfer import Cell, run_grid
from jtask2vec.model import training as training_module
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.predict import collate, tokenize
from jtask2vec.model.probes import load_probe
from jtask2vec.model.training import autocast, cpu_has_native_bf16, encoded_inputs, resolve_precision
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.synthetic import make_synthetic_task

QUICK = TrainingConfig(epochs=1, learning_rate=3e-3, batch_size=16)
FROZEN = QUICK.model_copy(update={"freeze_word_embeddings": True})
WORDS = "embeddings.word_embeddings.weight"


@pytest.fixture(scope="module")
def task():
    return make_synthetic_task("keywords", n=160, seed=1, signal="keyword", noise=0.05)


def _logits(model, probe, texts):
    batch = collate(tokenize(probe.tokenizer, texts, probe.max_length), probe.tokenizer.pad_token_id)
    with torch.no_grad():
        return model.eval()(**batch)


# ---- frozen word embeddings and delta checkpoints ------------------------------------------------------
def test_frozen_word_embeddings_stay_the_probes_and_the_rest_trains(tiny_probe, task):
    out = training_module.finetune(task, tiny_probe, FROZEN, seed=0, progress=False)
    before, after = tiny_probe.encoder.state_dict(), out.model.encoder.state_dict()
    assert torch.equal(after[WORDS], before[WORDS])
    moved = [n for n in before if n != WORDS and not torch.equal(after[n], before[n])]
    assert any("layer" in n for n in moved) and "embeddings.position_embeddings.weight" in moved
    # the probe's own encoder is untouched and still trainable
    assert tiny_probe.encoder.get_input_embeddings().weight.requires_grad
    # and the frozen table is the probe's own storage, not a copy (me5-small: 384 MB per fine-tune)
    assert tiny_probe.shares_word_embeddings(out.model.encoder)
    assert not tiny_probe.shares_word_embeddings(
        training_module.finetune(task, tiny_probe, QUICK, 0).model.encoder
    )


def test_a_trained_transfer_from_a_delta_checkpoint_never_writes_the_probes_table(tiny_probe, task, tmp_path):
    """A delta checkpoint loads over the probe's shared table; a transfer that trains the word embeddings
    takes its own copy first, so the probe (cached in the worker for every later job) stays pretrained."""
    store = ArtifactStore(tmp_path / "store")
    pretrained = tiny_probe.encoder.get_input_embeddings().weight.detach().clone()
    source = finetune(task, tiny_probe, FROZEN, seed=0, store=store, progress=False)
    start, _, _ = load_finetuned(store, source.checkpoint_key, tiny_probe)
    assert tiny_probe.shares_word_embeddings(start.encoder)
    moved = training_module.finetune(task, tiny_probe, QUICK, 0, start=start.encoder, progress=False).model
    assert not torch.equal(moved.encoder.get_input_embeddings().weight, pretrained)
    assert torch.equal(tiny_probe.encoder.get_input_embeddings().weight, pretrained)


def test_the_checkpoint_holds_only_what_changed_and_loads_on_its_probe(tiny_probe, task, tmp_path):
    store = ArtifactStore(tmp_path / "store")
    frozen = finetune(task, tiny_probe, FROZEN, seed=0, store=store, progress=False)
    full = finetune(task, tiny_probe, QUICK, seed=0, store=store, progress=False)
    assert frozen.checkpoint_key != full.checkpoint_key
    folder = finetuned_folder(store, frozen.checkpoint_key)
    from safetensors import safe_open

    with safe_open(str(folder / DELTA_FILE), "pt") as fh:
        stored = set(fh.keys())
    assert WORDS not in stored and stored == set(tiny_probe.encoder.state_dict()) - {WORDS}
    assert not (folder / "model.safetensors").exists() and not (folder / "tokenizer.json").exists()
    size = sum(p.stat().st_size for p in folder.iterdir())
    full_size = sum(p.stat().st_size for p in finetuned_folder(store, full.checkpoint_key).iterdir())
    assert size < full_size

    model, tokenizer, meta = load_finetuned(store, frozen.checkpoint_key, tiny_probe)
    assert meta["base_probe_fingerprint"] == tiny_probe.fingerprint and tokenizer is tiny_probe.tokenizer
    trained = training_module.finetune(task, tiny_probe, FROZEN, seed=0, progress=False).model
    torch.testing.assert_close(
        _logits(model, tiny_probe, task.texts[:8]),
        _logits(trained, tiny_probe, task.texts[:8]),
        rtol=0,
        atol=0,
    )
    with pytest.raises(ProbeError, match="only on top of its base probe"):
        load_classifier(folder)
    other = load_probe(ProbeConfig(name="tiny-random-bert:1", max_length=tiny_probe.max_length))
    with pytest.raises(ProbeError, match="fingerprint"):
        load_classifier(folder, base=other)


def test_transfer_cells_keep_metrics_only_unless_asked(tiny_probe, tmp_path):
    tasks = {
        "a": make_synthetic_task("a", n=80, seed=1, style="hotel"),
        "b": make_synthetic_task("b", n=80, seed=2, style="food"),
    }
    for keep in (False, True):
        store = ArtifactStore(tmp_path / f"store-{keep}")
        training = FROZEN.model_copy(update={"keep_transfer_checkpoints": keep})
        grid = run_grid([Cell("a", "b", 0)], tasks, tiny_probe, training, training, store)
        transfer = grid.iloc[0]
        assert transfer["source"] == "a" and 0.0 <= transfer["accuracy"] <= 1.0
        folder = finetuned_folder(store, transfer["checkpoint_key"])
        assert (folder / "head.safetensors").exists() is keep
        source = finetuned_folder(store, transfer["source_checkpoint_key"])
        assert (source / "head.safetensors").exists()  # sources are read by embeddings and selectors
        if not keep:
            with pytest.raises(ProbeError, match="kept only its metrics"):
                load_finetuned(store, transfer["checkpoint_key"], tiny_probe)
        else:
            load_finetuned(store, transfer["checkpoint_key"], tiny_probe)


def test_kept_transfer_from_trained_word_embeddings_is_stored_in_full(tiny_probe, task, tmp_path):
    """Frozen in the transfer, but the source trained them: they are not the probe's, so they are stored."""
    store = ArtifactStore(tmp_path / "store")
    source = finetune(task, tiny_probe, QUICK, seed=0, store=store, progress=False)
    keep = FROZEN.model_copy(update={"keep_transfer_checkpoints": True})
    transfer = finetune(task, tiny_probe, keep, seed=0, store=store, init_from=source.checkpoint_key)
    assert (finetuned_folder(store, transfer.checkpoint_key) / "model.safetensors").exists()
    model, _, _ = load_finetuned(store, transfer.checkpoint_key, tiny_probe)
    start, _, _ = load_finetuned(store, source.checkpoint_key, tiny_probe)
    assert torch.equal(model.encoder.state_dict()[WORDS], start.encoder.state_dict()[WORDS])
    assert not torch.equal(model.encoder.state_dict()[WORDS], tiny_probe.encoder.state_dict()[WORDS])


# ---- precision -----------------------------------------------------------------------------------------
def test_precision_resolves_and_is_keyed(tiny_probe, task):
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cpu) == ("bf16" if cpu_has_native_bf16() else "fp32")
    keys = {p: finetune_key(task, tiny_probe, QUICK.model_copy(update={"precision": p}), 0) for p in
            ("fp32", "bf16", "auto")}  # fmt: skip
    assert len(set(keys.values())) == 3 and keys["fp32"] == finetune_key(task, tiny_probe, QUICK, 0)


def test_bf16_autocast_is_close_to_a_float64_reference(tiny_probe, task):
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling).eval()
    reference = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling).double().eval()
    reference.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    batch = collate(tokenize(tiny_probe.tokenizer, task.texts[:16], 32), tiny_probe.tokenizer.pad_token_id)
    with torch.no_grad():
        want = reference(**batch)
        with autocast("bf16", torch.device("cpu")):
            got = model(**batch)
    assert got.dtype == torch.bfloat16  # autocast really ran the matmuls in bf16
    scale = float(want.abs().max())
    assert float((got.double() - want).abs().max()) <= 0.02 * scale + 1e-3


def test_a_bf16_fine_tune_keeps_float32_weights_and_records_its_precision(tiny_probe, task):
    fp32 = training_module.finetune(task, tiny_probe, QUICK, seed=0, progress=False)
    bf16 = training_module.finetune(
        task, tiny_probe, QUICK.model_copy(update={"precision": "bf16"}), seed=0, progress=False
    )
    assert fp32.result.precision == "fp32" and bf16.result.precision == "bf16"
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())  # the Fisher reads float32
    a, b = fp32.model.state_dict(), bf16.model.state_dict()
    assert not torch.equal(a["head.weight"], b["head.weight"])  # bf16 arithmetic really ran
    assert float((a["head.weight"] - b["head.weight"]).abs().max()) < 0.1 * float(
        a["head.weight"].abs().max()
    )


# ---- tokenisation once per task and probe ----------------------------------------------------------------
def test_each_task_is_tokenised_once_per_probe(tiny_probe, monkeypatch):
    fresh = make_synthetic_task("once", n=80, seed=5, style="news")
    calls = []
    real = training_module.tokenize

    def counting(tokenizer, texts, max_length):
        calls.append(len(texts))
        return real(tokenizer, texts, max_length)

    monkeypatch.setattr(training_module, "tokenize", counting)
    one = training_module.finetune(fresh, tiny_probe, QUICK, seed=0, progress=False)
    two = training_module.finetune(fresh, tiny_probe, QUICK, seed=1, progress=False)
    assert calls == [len(fresh)]
    assert encoded_inputs(fresh, tiny_probe) is encoded_inputs(fresh, tiny_probe)
    assert one.result.n_test == two.result.n_test
    np.testing.assert_array_equal(
        [len(x["input_ids"]) for x in encoded_inputs(fresh, tiny_probe)],
        [len(x["input_ids"]) for x in tokenize(tiny_probe.tokenizer, fresh.inputs, tiny_probe.max_length)],
    )
