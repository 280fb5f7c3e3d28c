"""How long a task's texts are in tokens of a probe's tokenizer, and how many the probe cuts.

Fine-tuning and the Fisher tokenise with ``truncation=True, max_length=probe.max_length`` (special tokens
included): a text of more tokens is judged on its first ``max_length`` only. :func:`token_length_stats`
says how often that happens, so the truncation is never silent (``tasks show``, Table 1 of the report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from jtask2vec.tasks.base import Task

PERCENTILES = (50, 90, 99)


class Tokenizer(Protocol):
    def __call__(self, texts: list[str], **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class TokenLengthStats:
    """Token counts (special tokens included) of every text of a task; percentiles are observed lengths."""

    n: int
    max_length: int
    truncated: int  # texts longer than max_length tokens
    truncated_share: float
    p50: int
    p90: int
    p99: int
    max: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def token_lengths(texts: Sequence[str], tokenizer: Tokenizer, batch_size: int = 512) -> np.ndarray:
    """Number of tokens of each text (with the special tokens the probe adds), without truncation."""
    out: list[int] = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        ids = tokenizer(batch, truncation=False, add_special_tokens=True, verbose=False)["input_ids"]
        out.extend(len(x) for x in ids)
    return np.asarray(out, dtype=np.int64)


def token_length_stats(task: Task | Sequence[str], tokenizer: Tokenizer, max_length: int) -> TokenLengthStats:
    """Share of ``task``'s texts longer than ``max_length`` tokens, and the length percentiles.

    Percentiles use the inverted CDF (``numpy.percentile(method="inverted_cdf")``): each is the length of
    an actual text, the smallest ``L`` with at least ``q`` % of the texts of ``L`` tokens or fewer.
    """
    if max_length < 1:
        raise ValueError("max_length must be >= 1")
    texts = task.texts if isinstance(task, Task) else task
    lengths = token_lengths(texts, tokenizer)
    if lengths.size == 0:
        return TokenLengthStats(0, max_length, 0, 0.0, 0, 0, 0, 0)
    pct = np.percentile(lengths, PERCENTILES, method="inverted_cdf")
    truncated = int((lengths > max_length).sum())
    return TokenLengthStats(
        n=int(lengths.size),
        max_length=max_length,
        truncated=truncated,
        truncated_share=truncated / lengths.size,
        p50=int(pct[0]),
        p90=int(pct[1]),
        p99=int(pct[2]),
        max=int(lengths.max()),
    )
