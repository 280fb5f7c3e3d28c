"""Which encoder parameters the Fisher (and the task vector) covers, and how they group into layers.

Scopes (``FisherConfig.scope``), always over the **encoder** only (the classifier head is never part of a
TASK2VEC embedding: it embeds the feature extractor):

- ``encoder``: every encoder parameter, except the embedding tables (``nn.Embedding`` weights) unless
  ``include_embeddings``;
- ``layers``: only parameters inside the repeated transformer layers (``layer.N`` / ALBERT's shared group);
- ``all``: every encoder parameter, embedding tables included.

Parameters that get no gradient from the logits (an unused pooler, frozen parameters) are dropped by
:func:`jtask2vec.fisher.diagonal_fisher`.
"""

from __future__ import annotations

import re

from torch import nn

_LAYER_PATTERN = re.compile(r"(?:^|\.)(?:layer|layers|h|block|blocks|albert_layer_groups)\.(\d+)\.")


def layer_key(name: str) -> str:
    """Group of an encoder parameter: ``layer.N``, ``embeddings`` or ``other``.

    ALBERT's layers share one set of weights, so its whole stack is ``layer.0`` (the shared group).
    """
    match = _LAYER_PATTERN.search(name)
    if match:
        return f"layer.{int(match.group(1))}"
    if name.startswith("embeddings.") or ".embeddings." in name:
        return "embeddings"
    return "other"


def embedding_table_names(encoder: nn.Module) -> set[str]:
    """Names (relative to ``encoder``) of the weights of its ``nn.Embedding`` modules."""
    names: set[str] = set()
    for mod_name, module in encoder.named_modules():
        if isinstance(module, nn.Embedding):
            names.add(f"{mod_name}.weight" if mod_name else "weight")
    return names


def scope_parameters(encoder: nn.Module, scope: str, include_embeddings: bool) -> list[str]:
    """Names (relative to ``encoder``) of the trainable parameters in ``scope``, in module order."""
    tables = embedding_table_names(encoder)
    chosen = []
    for name, param in encoder.named_parameters():
        if not param.requires_grad:
            continue
        if scope == "layers":
            keep = layer_key(name).startswith("layer.")
        elif scope == "encoder":
            keep = include_embeddings or name not in tables
        elif scope == "all":
            keep = True
        else:
            raise ValueError(f"unknown Fisher scope {scope!r}")
        if keep:
            chosen.append(name)
    return chosen
