"""Model inputs: one text, or a sentence pair, tokenised the same way by every stage.

An input is a ``str`` (single-sentence task) or a ``(first, second)`` tuple (sentence-pair task: premise
and hypothesis, two sentences to compare). :func:`encode` is the only place that calls a tokenizer on
task texts: fine-tuning, prediction, the Fisher, TextEmb and LogME features all go through it, so a pair
is seen the same way everywhere:

- a pair is tokenised by the tokenizer itself, ``tokenizer(first, second)``, with the tokenizer's own
  pair template (``[CLS] a [SEP] b [SEP]`` for BERT) and its ``token_type_ids`` where the model has them;
- truncation is ``"longest_first"``: tokens come off the longer side first until the pair fits
  ``max_length`` (for a single text this is plain truncation).

A list may mix singles and pairs (the trivial embedding ``t0`` samples texts of every task of a suite);
each kind is tokenised in one call and the results are put back in input order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

import torch
from transformers import PreTrainedTokenizerBase

TextInput = Union[str, tuple[str, str]]  # noqa: UP007  (a runtime alias)
Encoded = dict[str, list[int]]  # "input_ids", and "attention_mask" / "token_type_ids" when returned
ENCODED_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def is_pair(item: TextInput) -> bool:
    """Whether ``item`` is a sentence pair; anything but a str or a 2-tuple of str is an error."""
    if isinstance(item, str):
        return False
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(t, str) for t in item):
        return True
    raise TypeError(f"a model input is a text or a (text, text) pair, not {type(item).__name__}: {item!r}")


def encode(tokenizer: PreTrainedTokenizerBase, inputs: Sequence[TextInput], max_length: int) -> list[Encoded]:
    """Each input tokenised (special tokens and pair template included), truncated to ``max_length``
    longest side first, unpadded: a list of ``{"input_ids": [...], ...}`` in input order."""
    items = list(inputs)
    pair_idx = [i for i, item in enumerate(items) if is_pair(item)]
    single_idx = [i for i, item in enumerate(items) if not isinstance(item, tuple)]
    out: list[Encoded | None] = [None] * len(items)
    if single_idx:
        enc = tokenizer(
            [items[i] for i in single_idx], truncation="longest_first", max_length=max_length, padding=False
        )
        _scatter(enc, single_idx, out)
    if pair_idx:
        firsts = [items[i][0] for i in pair_idx]
        seconds = [items[i][1] for i in pair_idx]
        enc = tokenizer(firsts, seconds, truncation="longest_first", max_length=max_length, padding=False)
        _scatter(enc, pair_idx, out)
    return out  # type: ignore[return-value]


def _scatter(enc: Mapping[str, list[list[int]]], positions: list[int], out: list[Encoded | None]) -> None:
    keys = [k for k in ENCODED_KEYS if k in enc]
    for j, i in enumerate(positions):
        out[i] = {k: list(enc[k][j]) for k in keys}


def pad(encoded: Sequence[Encoded], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-pad to the longest sequence: ``input_ids``, ``attention_mask`` and, when every example has
    them, ``token_type_ids`` (padding positions get type 0), all ``(batch, length)`` int64."""
    length = max(len(e["input_ids"]) for e in encoded)
    ids = torch.full((len(encoded), length), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), length), dtype=torch.long)
    with_types = all("token_type_ids" in e for e in encoded)
    types = torch.zeros((len(encoded), length), dtype=torch.long) if with_types else None
    for row, e in enumerate(encoded):
        n = len(e["input_ids"])
        ids[row, :n] = torch.as_tensor(e["input_ids"], dtype=torch.long)
        mask[row, :n] = torch.as_tensor(e.get("attention_mask", [1] * n), dtype=torch.long)
        if types is not None:
            types[row, :n] = torch.as_tensor(e["token_type_ids"], dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    return batch


def split_inputs(inputs: Sequence[TextInput]) -> tuple[list[str], list[str] | None]:
    """``(firsts, seconds)`` of all-pair inputs, or ``(texts, None)`` of all-single ones (mixed: error)."""
    flags = [is_pair(item) for item in inputs]
    if any(flags) and not all(flags):
        raise ValueError("inputs mix single texts and sentence pairs")
    if flags and all(flags):
        return [a for a, _ in inputs], [b for _, b in inputs]  # type: ignore[misc]
    return [str(t) for t in inputs], None
