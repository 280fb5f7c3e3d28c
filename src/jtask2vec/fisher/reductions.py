"""From a diagonal Fisher (one tensor per parameter) to a task vector.

- ``filter`` (TASK2VEC's "filter-wise" mean): for each parameter tensor, the mean of its Fisher over every
  axis except the output-unit axis (axis 0 of a ``Linear`` weight ``(out, in)``; axis 1, the hidden axis,
  of an embedding table ``(vocab, hidden)``); 1-D tensors (biases, LayerNorm) as they are. The vector is
  the concatenation, in parameter order: one entry per output unit of every in-scope tensor.
- ``hidden`` (a hidden-size vector, 768-dim for BERT-base): entry ``j`` is the mean Fisher of all the
  parameters attached to hidden unit ``j``:

      v_j = Σ_{(P, a)} Σ_{e ∈ P, e_a = j} F_e  /  Σ_{(P, a)} numel(P) / H

  over every in-scope tensor ``P`` and every axis ``a`` of ``P`` of size ``H`` (the hidden size). So a
  ``(H, H)`` attention matrix counts along both axes (its rows feed, its columns read, hidden unit ``j``);
  an FFN matrix ``(4H, H)`` through its input axis; a bias/LayerNorm of size ``H`` entry by entry.
  (If another dimension happens to equal ``H`` it is counted too; BERT/ALBERT have none.) Tensors with
  no axis of size ``H`` do not enter.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from jtask2vec.errors import ConfigError
from jtask2vec.fisher.scopes import layer_key


def filter_vector(fisher: dict[str, torch.Tensor], tables: Iterable[str] = ()) -> np.ndarray:
    """TASK2VEC's filter-wise mean, concatenated over the tensors of ``fisher`` (names in ``tables`` are
    embedding tables, whose output axis is the last)."""
    tables = set(tables)
    parts = []
    for name, value in fisher.items():
        v = value.detach().to(torch.float64)
        if v.ndim >= 2:
            keep = v.ndim - 1 if name in tables else 0
            v = v.mean(dim=[a for a in range(v.ndim) if a != keep])
        parts.append(v.reshape(-1).cpu().numpy())
    if not parts:
        raise ConfigError("no parameter to reduce")
    return np.concatenate(parts)


def hidden_vector(fisher: dict[str, torch.Tensor], hidden_size: int) -> np.ndarray:
    """The ``hidden`` reduction (formula in the module docstring): a ``(hidden_size,)`` vector."""
    total = torch.zeros(hidden_size, dtype=torch.float64)
    count = 0.0
    for value in fisher.values():
        v = value.detach().to(torch.float64).cpu()
        for axis, size in enumerate(v.shape):
            if size != hidden_size:
                continue
            others = [a for a in range(v.ndim) if a != axis]
            total += v.sum(dim=others) if others else v
            count += v.numel() / hidden_size
    if count == 0:
        raise ConfigError(f"no in-scope parameter has an axis of the hidden size {hidden_size}")
    return (total / count).numpy()


def reduce_fisher(
    fisher: dict[str, torch.Tensor], reduction: str, hidden_size: int, tables: Iterable[str] = ()
) -> np.ndarray:
    if reduction == "filter":
        return filter_vector(fisher, tables)
    if reduction == "hidden":
        return hidden_vector(fisher, hidden_size)
    raise ConfigError(f"reduction {reduction!r} does not apply to a parameter Fisher")


def by_layer(fisher: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """The Fisher split into groups ``layer.N`` / ``embeddings`` / ``other`` (order kept)."""
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for name, value in fisher.items():
        groups.setdefault(layer_key(name), {})[name] = value
    return groups
