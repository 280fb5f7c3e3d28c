"""The classifier's logits from a :class:`~jtask2vec.fisher.inputs.Chunk`, in the three calling styles the
Fisher paths need (batched, per-example under vmap, functional)."""

from __future__ import annotations

import torch
from torch import nn

from jtask2vec.fisher.inputs import Chunk, additive_mask
from jtask2vec.model.classifier import EncoderClassifier


def chunk_logits(
    model: EncoderClassifier, chunk: Chunk, additive_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``(B, C)`` logits of the padded chunk (2-D mask, or a ready 4-D additive one for the encoder)."""
    encoder_mask = None if additive_dtype is None else additive_mask(chunk.attention_mask, additive_dtype)
    return model(
        chunk.input_ids, chunk.attention_mask, chunk.token_type_ids, encoder_attention_mask=encoder_mask
    )


def chunk_features(model: EncoderClassifier, chunk: Chunk) -> torch.Tensor:
    """``(B, H)`` pooled features (the input of the head)."""
    return model.features(chunk.input_ids, chunk.attention_mask, chunk.token_type_ids)


class FunctionalClassifier(nn.Module):
    """``forward(input_ids, mask2d, mask4d, token_type_ids) -> logits`` for ``torch.func.functional_call``
    (parameter names are the wrapped model's, prefixed ``model.``)."""

    def __init__(self, model: EncoderClassifier) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        mask2d: torch.Tensor,
        mask4d: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.model(input_ids, mask2d, token_type_ids, encoder_attention_mask=mask4d)
