"""Sentence-pair tasks through every stage: Task, loaders, splits, tokens, training, Fisher, features."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from jtask2vec.config import FisherConfig, TrainingConfig
from jtask2vec.errors import DataError
from jtask2vec.fisher import diagonal_fisher
from jtask2vec.fisher.inputs import collate as fisher_collate
from jtask2vec.jobs.stages import finetune
from jtask2vec.model.classifier import EncoderClassifier, encode_texts
from jtask2vec.model.predict import collate, tokenize
from jtask2vec.model.probes import load_probe
from jtask2vec.selection.textemb import extract_features, text_embedding
from jtask2vec.tasks.base import Provenance, Task
from jtask2vec.tasks.registry import load_task, task_spec
from jtask2vec.tasks.text_inputs import encode, pad

PAIRS = [
    ("駅の前の店は美味しい。", "店は美味しい。"),
    ("部屋が狭い", "部屋は広い"),
    ("今日は良い天気ですね。", "今日は悪い天気。"),
    ("朝食が高い！", "朝食は安い"),
    ("新しい宿で、夕食も安い。", "夕食が安い宿"),
    ("風呂", "風呂が良い"),
]
LABELS = np.array([1, 0, 0, 0, 1, 1])
MAX_LEN = 48


def pair_task(n: int = 60, seed: int = 0) -> Task:
    """A learnable pair task: label 1 iff the second text repeats the first one's topic character."""
    rng = np.random.default_rng(seed)
    topics = list("朝夕駅店宿部屋風呂")
    texts, pairs, labels = [], [], []
    for i in range(n):
        a, b = rng.choice(len(topics), size=2, replace=False)
        same = i % 2
        texts.append(f"{topics[a]}は良い{'。' * int(rng.integers(1, 3))}")
        pairs.append(f"{topics[a] if same else topics[b]}も好き")
        labels.append(same)
    splits = tuple("test" if i % 5 == 0 else "dev" if i % 5 == 1 else "train" for i in range(n))
    return Task(
        name="pairs",
        texts=tuple(texts),
        labels=np.asarray(labels),
        splits=splits,  # type: ignore[arg-type]
        label_names=("different", "same"),
        provenance=Provenance(source="test", licence="-", derivation="-"),
        text_pairs=tuple(pairs),
    )


# ---- Task ---------------------------------------------------------------------------------------------
def test_single_text_task_keeps_its_data_hash():
    task = load_task(task_spec("synthetic", n=40, seed=3, style="hotel"))
    # value computed with the code before sentence pairs existed (pins the format)
    assert task.data_hash == "8e4bb0122bd4f1cb67beeb3685dfce27c2b4ab7c0045765ad21594f27e449673"
    h = hashlib.sha256("\x1f".join(task.label_names).encode())
    for text, label, split in zip(task.texts, task.labels.tolist(), task.splits, strict=True):
        h.update(f"\x1e{label}\x1f{split}\x1f{text}".encode())
    assert task.data_hash == h.hexdigest()


def test_pairs_enter_the_hash_subset_and_views():
    task = pair_task()
    other = Task(**{**task.__dict__, "text_pairs": (*task.text_pairs[:-1], "別の文"), "_hash": None})
    single = Task(**{**task.__dict__, "text_pairs": None, "_hash": None})
    assert len({task.data_hash, other.data_hash, single.data_hash}) == 3
    sub = task.subset([3, 1])
    assert sub.texts == (task.texts[3], task.texts[1]) and sub.text_pairs == (
        task.text_pairs[3],
        task.text_pairs[1],
    )
    train = task.indices("train")
    assert task.pairs_of("train") == [task.text_pairs[i] for i in train]
    assert task.inputs_of("train") == [(task.texts[i], task.text_pairs[i]) for i in train]
    assert single.pairs_of("train") is None and single.inputs_of("train") == single.texts_of("train")
    with pytest.raises(ValueError, match="one entry per text"):
        Task(**{**task.__dict__, "text_pairs": task.text_pairs[:-1], "_hash": None})


def _write_pairs_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


def test_generic_loaders_read_a_text_pair_column(tmp_path):
    rows = [{"a": f"前提{i}", "b": f"仮説{i % 7}", "y": i % 2} for i in range(40)]
    _write_pairs_jsonl(tmp_path / "p.jsonl", rows)
    task = load_task(
        task_spec(
            "jsonl", path=str(tmp_path / "p.jsonl"), text_field="a", text_pair_field="b", label_field="y"
        )
    )
    assert task.is_pair_task and dict(zip(task.texts, task.text_pairs, strict=True))["前提8"] == "仮説1"
    tsv = tmp_path / "p.tsv"
    tsv.write_text("a\tb\ty\n" + "".join(f"{r['a']}\t{r['b']}\t{r['y']}\n" for r in rows), encoding="utf-8")
    same = load_task(task_spec("tsv", path=str(tsv), text_column="a", text_pair_column="b", label_column="y"))
    assert same.data_hash == task.data_hash
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\ty\nx\t \t1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.tsv:2 \[field 'b'\]: empty text"):
        load_task(task_spec("tsv", path=str(bad), text_column="a", text_pair_column="b", label_column="y"))


def test_identical_pairs_stay_together_and_shared_premises_do_not_have_to(tmp_path):
    # every premise appears with 3 hypotheses; every (premise, hypothesis) pair appears twice
    rows = []
    for p in range(30):
        for h in range(3):
            rows += [{"a": f"前提{p}", "b": f"仮説{p}-{h}", "y": (p + h) % 2}] * 2
    _write_pairs_jsonl(tmp_path / "p.jsonl", rows)
    task = load_task(
        task_spec(
            "jsonl", path=str(tmp_path / "p.jsonl"), text_field="a", text_pair_field="b", label_field="y"
        )
    )
    where: dict[tuple[str, str], set[str]] = {}
    premise: dict[str, set[str]] = {}
    for a, b, s in zip(task.texts, task.text_pairs, task.splits, strict=True):
        where.setdefault((a, b), set()).add(s)
        premise.setdefault(a, set()).add(s)
    assert all(len(v) == 1 for v in where.values())
    assert any(len(v) > 1 for v in premise.values())  # the key is the pair, not the first text
    assert any("90 repeated text pairs" in n for n in task.provenance.notes)


# ---- tokenisation -------------------------------------------------------------------------------------
def test_pair_template_and_longest_first_truncation(tiny_probe):
    tok = tiny_probe.tokenizer
    cls, sep = tok.cls_token_id, tok.sep_token_id
    [enc] = encode(tok, [("あ" * 20, "い" * 5)], max_length=12)
    a, b = tok.convert_tokens_to_ids("あ"), tok.convert_tokens_to_ids("い")
    # 9 content tokens: the longer side is cut to the shorter's length first, then both shrink in turn
    assert enc["input_ids"] == [cls, *[a] * 5, sep, *[b] * 4, sep]
    assert enc["token_type_ids"] == [0] * 7 + [1] * 5
    [even] = encode(tok, [("あ" * 20, "い" * 20)], max_length=13)
    assert even["input_ids"].count(a) == even["input_ids"].count(b) == 5
    mixed = encode(tok, ["うう", ("あ", "い"), "え"], max_length=12)
    assert [len(m["input_ids"]) for m in mixed] == [4, 5, 3]


def test_imitator_has_a_pair_template_and_keeps_single_ids():
    probe = load_probe("ja-imitator")
    tok = probe.tokenizer
    single = tok("朝食")["input_ids"]
    [enc] = encode(tok, [("朝食", "美味しい")], max_length=64)
    sep = tok.sep_token_id
    assert sep == len(tok) - 1 == probe.encoder.config.vocab_size - 1
    assert enc["input_ids"] == [*single, sep, *tok("美味しい")["input_ids"]]
    assert enc["token_type_ids"] == [0, 0, 0, 1, 1, 1, 1]
    table = probe.encoder.get_input_embeddings().weight
    torch.testing.assert_close(table[sep], table[tok.convert_tokens_to_ids("。")])


def test_token_types_reach_the_encoder_and_a_pair_is_not_a_concatenation(tiny_probe):
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling).double().eval()
    tok = tiny_probe.tokenizer
    pair = encode_texts(tok, [PAIRS[0]], MAX_LEN)
    assert pair["token_type_ids"].tolist()[0].count(1) > 0
    concatenated = encode_texts(tok, [PAIRS[0][0] + PAIRS[0][1]], MAX_LEN)
    batch = collate(tokenize(tok, [PAIRS[0]], MAX_LEN), tok.pad_token_id)
    assert torch.equal(batch["token_type_ids"], pair["token_type_ids"])
    with torch.no_grad():
        f_pair = model.features(**pair)
        f_concat = model.features(**concatenated)
        no_types = model.features(pair["input_ids"], pair["attention_mask"])
    assert not torch.allclose(f_pair, f_concat)
    assert not torch.allclose(f_pair, no_types)  # the token types are not dropped on the way


# ---- Fisher -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bert64(tiny_probe):
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling).double()
    with torch.no_grad():
        model.head.weight.normal_(0, 0.5)
        model.head.bias.normal_(0, 0.5)
    return model, tiny_probe.tokenizer


@pytest.mark.parametrize("estimator", ["exact", "empirical"])
@pytest.mark.parametrize("method", ["vmap", "hooks"])
def test_fisher_fast_paths_equal_the_loop_on_pairs(bert64, estimator, method):
    model, tok = bert64
    chunk = fisher_collate(tokenize(tok, PAIRS, MAX_LEN), np.arange(3), tok.pad_token_id, torch.device("cpu"))
    assert chunk.token_type_ids is not None and chunk.token_type_ids.max() == 1
    config = FisherConfig(estimator=estimator, batch_size=4)
    got = diagonal_fisher(model, tok, PAIRS, LABELS, config, MAX_LEN, seed=0, method=method)
    want = diagonal_fisher(model, tok, PAIRS, LABELS, config, MAX_LEN, seed=0, method="loop")
    scale = max(float(v.abs().max()) for v in want.values())
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-6, atol=1e-12 * scale, msg=name)
    firsts = diagonal_fisher(
        model, tok, [a for a, _ in PAIRS], LABELS, config, MAX_LEN, seed=0, method=method
    )
    assert any(not torch.allclose(firsts[n], want[n]) for n in want)  # the second texts are used


# ---- features -----------------------------------------------------------------------------------------
def test_textemb_and_features_on_pairs_equal_one_pair_at_a_time(tiny_probe):
    vector = text_embedding(tiny_probe, PAIRS, batch_size=4)
    encoder = tiny_probe.encoder
    rows = []
    with torch.no_grad():
        for p in PAIRS:
            batch = encode_texts(tiny_probe.tokenizer, [p], tiny_probe.max_length)
            rows.append(encoder(**batch).last_hidden_state[0].double().mean(0))
    np.testing.assert_allclose(vector, torch.stack(rows).mean(0).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(vector, text_embedding(tiny_probe, [a for a, _ in PAIRS]))

    torch.manual_seed(1)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling).eval()
    feats = extract_features(model, tiny_probe.tokenizer, PAIRS, tiny_probe.max_length, batch_size=4)
    with torch.no_grad():
        single = [
            model.features(**encode_texts(tiny_probe.tokenizer, [p], tiny_probe.max_length)) for p in PAIRS
        ]
    np.testing.assert_allclose(feats, torch.cat(single).numpy(), rtol=1e-4, atol=1e-5)


def test_padding_keeps_token_types_aligned(tiny_probe):
    enc = encode(tiny_probe.tokenizer, [PAIRS[5], PAIRS[2]], MAX_LEN)
    batch = pad(enc, tiny_probe.tokenizer.pad_token_id)
    short = len(enc[0]["input_ids"])
    assert batch["token_type_ids"][0, short:].eq(0).all() and batch["attention_mask"][0, short:].eq(0).all()
    assert batch["token_type_ids"][0, :short].tolist() == enc[0]["token_type_ids"]


# ---- fine-tuning --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_finetune_on_a_pair_task_sees_pairs(tiny_probe, monkeypatch):
    task = pair_task(n=80)
    seen: list[torch.Tensor] = []
    forward = EncoderClassifier.forward

    def spy(self, input_ids, attention_mask, token_type_ids=None, **kw):
        if token_type_ids is not None:
            seen.append(token_type_ids)
        return forward(self, input_ids, attention_mask, token_type_ids, **kw)

    monkeypatch.setattr(EncoderClassifier, "forward", spy)
    training = TrainingConfig(epochs=2, learning_rate=1e-3, batch_size=8)
    result = finetune(task, tiny_probe, training, seed=0, progress=False)
    assert result.n_train == len(task.indices("train")) and 0 <= result.accuracy <= 1
    assert seen and all(t.max() == 1 for t in seen)  # every batch (train, dev, test) holds pairs
    monkeypatch.setattr(EncoderClassifier, "forward", forward)
    single = Task(**{**task.__dict__, "text_pairs": None, "_hash": None})
    other = finetune(single, tiny_probe, training, seed=0, progress=False)
    assert other.checkpoint_key != result.checkpoint_key
