"""Probes: the exported offline imitator matches its PyPI package, folders load, pooling, clear errors."""

from __future__ import annotations

import hashlib

import pytest
import torch

from jtask2vec.config import ProbeConfig
from jtask2vec.errors import ProbeError
from jtask2vec.model.probes import load_probe, resolve_pooling
from jtask2vec.model.probes.imitator import imitator_folder

TEXTS = [
    "朝食はとても美味しかったです。",
    "部屋が狭くて、少し残念でした",
    "スタッフの対応が丁寧で、また利用したいと思います！",
    "鬱蒼とした森の奥に、𠮷野家がある。",  # rare kanji (in and outside the package vocabulary)
    "Wi-Fiが使えず😢 2泊3日",  # ASCII, digits, an emoji (unknown non-kanji)
]


@pytest.fixture(scope="module")
def imitator():
    return load_probe("ja-imitator")


@pytest.fixture(scope="module")
def tagger():
    """The package's own Tagger (its model loaded from model.pth), without letting it change torch threads."""
    pytest.importorskip("unidic_lite_imitator_transformers")
    from unidic_lite_imitator_transformers.ma_imitator import Tagger

    mp = pytest.MonkeyPatch()
    mp.setattr(torch, "set_num_threads", lambda n: None)
    mp.setattr(torch, "set_num_interop_threads", lambda n: None)
    try:
        tagger = Tagger()
    finally:
        mp.undo()
    tagger.model.eval()
    return tagger


def test_imitator_tokenizer_gives_the_package_ids(imitator, tagger):
    for text in TEXTS:
        expected = tagger.encode(text)["input_ids"][0].tolist()
        ours = imitator.tokenizer(text)["input_ids"]
        assert ours == expected, text
    assert 1 in imitator.tokenizer(TEXTS[3])["input_ids"]  # an unknown kanji -> id 1
    assert 2 in imitator.tokenizer(TEXTS[4])["input_ids"]  # an unknown non-kanji -> id 2


def test_imitator_hidden_states_equal_the_package_model_float64(imitator, tagger):
    reference = tagger.model.albert.double()
    ours = imitator.fresh_encoder().double().eval()
    with torch.no_grad():
        for text in TEXTS:
            inputs = tagger.encode(text)
            expected = reference(**inputs).last_hidden_state
            enc = imitator.tokenizer(text, return_tensors="pt")
            got = ours(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            assert got.shape == expected.shape == (1, len(text), 116)
            torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_imitator_is_exported_once_as_safetensors(imitator):
    folder = imitator_folder()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert not [p for p in folder.iterdir() if p.suffix in {".pth", ".pt", ".bin", ".pkl"}]
    mtime = (folder / "model.safetensors").stat().st_mtime_ns
    again = load_probe("ja-imitator")
    assert (folder / "model.safetensors").stat().st_mtime_ns == mtime  # not re-exported
    # the fingerprint is the content hash of the exported files (computed here independently)
    digest = hashlib.sha256()
    for f in sorted(p for p in folder.iterdir() if p.suffix in {".json", ".safetensors", ".txt"}):
        digest.update(f.name.encode() + f.read_bytes())
    expected = f"{folder.name}-{digest.hexdigest()[:16]}"
    assert imitator.fingerprint == expected and again.fingerprint == expected
    assert imitator.pooling == "mean" and imitator.hidden_size == 116


def test_pooling_auto_detection(imitator, tiny_probe):
    assert tiny_probe.pooling == "cls"  # [CLS] first
    assert imitator.pooling == "mean"  # no [CLS] token
    assert resolve_pooling("auto", tiny_probe.tokenizer) == "cls"
    assert load_probe(ProbeConfig(name="tiny-random-bert", pooling="mean")).pooling == "mean"


def test_saved_local_folder_loads_as_probe(tiny_probe, tmp_path):
    folder = tmp_path / "my-model"
    tiny_probe.encoder.save_pretrained(folder)
    tiny_probe.tokenizer.save_pretrained(folder)
    probe = load_probe(str(folder))
    assert probe.pooling == "cls"
    assert probe.fingerprint.startswith("my-model-")
    enc = tiny_probe.tokenizer(TEXTS[:2], padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(
            probe.encoder(**enc).last_hidden_state, tiny_probe.encoder(**enc).last_hidden_state
        )
    assert probe.tokenizer(TEXTS[0])["input_ids"] == tiny_probe.tokenizer(TEXTS[0])["input_ids"]


def test_tiny_random_bert_is_seeded():
    a, b = load_probe("tiny-random-bert:3"), load_probe("tiny-random-bert:3")
    c = load_probe("tiny-random-bert:4")
    wa, wb, wc = (p.encoder.embeddings.word_embeddings.weight for p in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert a.fingerprint != c.fingerprint


@pytest.mark.parametrize("name", ["no-such-org/no-such-model-xyz", "./no/such/local/folder"])
def test_missing_model_is_a_clear_probe_error_offline(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ProbeError, match="cannot load probe") as info:
        load_probe(name)
    message = str(info.value)
    assert name in message and "HF_HUB_OFFLINE=1" in message
    assert "\n" not in message
