"""Tokenised examples, chunks, and an attention mask that works under ``torch.func.vmap``.

Hugging Face encoders build their attention bias in ``transformers.masking_utils``
(``create_bidirectional_mask``), which inspects the *values* of a 2-D padding mask (e.g. to return ``None``
when nothing is padded). Data-dependent branches cannot run under ``vmap``. The same function returns a
**4-D mask unchanged** ("already prepared"), for every encoder that uses it (BERT, ALBERT, RoBERTa, ...,
transformers 5.x). So the vmapped path passes the encoder a ready additive float mask of shape
``(batch, 1, 1, length)``: 0 where a token is attended, ``finfo(dtype).min`` where it is padding, which
the eager attention adds to the scores and SDPA accepts as ``attn_mask``. During the vmapped pass the
encoder is switched to ``attn_implementation="eager"`` (:func:`eager_attention`), whose plain
matmul/softmax ops all have batching rules. Pooling keeps the 2-D mask.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from jtask2vec.tasks.text_inputs import Encoded, TextInput, encode, pad


@dataclass
class Chunk:
    """A padded batch of examples. ``index`` are the examples' positions in the selected sample."""

    index: np.ndarray  # (B,)
    input_ids: torch.Tensor  # (B, T) int64
    attention_mask: torch.Tensor  # (B, T) int64, 1 = token, 0 = padding
    token_type_ids: torch.Tensor | None  # (B, T) or None

    def __len__(self) -> int:
        return len(self.index)


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``(B, T)`` 0/1 padding mask -> ``(B, 1, 1, T)`` additive bias: 0 (keep) or ``finfo.min`` (pad)."""
    keep = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - keep) * torch.finfo(dtype).min


def tokenize(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[TextInput], max_length: int
) -> list[Encoded]:
    """Each input (a text, or a ``(text, text_pair)`` with the tokenizer's pair template) tokenised alone,
    truncated to ``max_length`` longest side first, unpadded (:func:`jtask2vec.tasks.text_inputs.encode`)."""
    return encode(tokenizer, texts, max_length)


def collate(
    tokenized: Sequence[Encoded], index: np.ndarray, pad_token_id: int, device: torch.device
) -> Chunk:
    """Right-pad the examples at ``index`` to the longest of them (token types kept where present)."""
    batch = pad([tokenized[i] for i in index], pad_token_id)
    types = batch.get("token_type_ids")
    return Chunk(
        index=np.asarray(index),
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
        token_type_ids=None if types is None else types.to(device),
    )


def length_sorted_chunks(
    tokenized: Sequence[dict[str, list[int]]], chunk_size: int, pad_token_id: int, device: torch.device
) -> Iterator[Chunk]:
    """Chunks of ``chunk_size`` examples of similar length (less padding; the Fisher is a sum, so the
    grouping does not change it)."""
    lengths = np.array([len(t["input_ids"]) for t in tokenized])
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), chunk_size):
        yield collate(tokenized, order[start : start + chunk_size], pad_token_id, device)


def ordered_chunks(
    tokenized: Sequence[dict[str, list[int]]], chunk_size: int, pad_token_id: int, device: torch.device
) -> Iterator[Chunk]:
    """Chunks in sample order (the legacy batch-squared estimator depends on the batch composition)."""
    for start in range(0, len(tokenized), chunk_size):
        yield collate(
            tokenized, np.arange(start, min(start + chunk_size, len(tokenized))), pad_token_id, device
        )


@contextlib.contextmanager
def eager_attention(encoder: torch.nn.Module) -> Iterator[None]:
    """Temporarily run ``encoder`` with ``attn_implementation="eager"`` (restored afterwards)."""
    config = getattr(encoder, "config", None)
    before = getattr(config, "_attn_implementation", None)
    setter = getattr(encoder, "set_attn_implementation", None)
    if before in (None, "eager") or setter is None:
        yield
        return
    setter("eager")
    try:
        yield
    finally:
        setter(before)
