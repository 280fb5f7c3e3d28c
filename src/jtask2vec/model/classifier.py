"""The classifier used everywhere: a pretrained encoder, a pooling, and a fresh linear head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from jtask2vec.tasks.text_inputs import TextInput, encode, pad


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """[CLS] (first position) or masked mean of ``hidden`` (batch, length, hidden)."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "mean":
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
    raise ValueError(f"unknown pooling {pooling!r}")


class EncoderClassifier(nn.Module):
    """``logits = head(dropout(pool(encoder(x))))``; the encoder is the probe's feature extractor."""

    def __init__(self, encoder: PreTrainedModel, pooling: str, num_labels: int = 2, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(int(encoder.config.hidden_size), num_labels)
        std = float(getattr(encoder.config, "initializer_range", 0.02))
        nn.init.normal_(self.head.weight, std=std)
        nn.init.zeros_(self.head.bias)

    def features(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        *,
        encoder_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Pooled features (batch, hidden). ``attention_mask`` (batch, length) marks real tokens for the
        pooling; ``encoder_attention_mask`` overrides what the encoder gets (e.g. a ready 4-D additive mask,
        which works under ``torch.func.vmap`` where Hugging Face's own mask building does not)."""
        mask = attention_mask if encoder_attention_mask is None else encoder_attention_mask
        kwargs = {"input_ids": input_ids, "attention_mask": mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state
        return pool(hidden, attention_mask, self.pooling)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        *,
        encoder_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        features = self.features(
            input_ids, attention_mask, token_type_ids, encoder_attention_mask=encoder_attention_mask
        )
        return self.head(self.dropout(features))


def encode_texts(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[TextInput], max_length: int
) -> dict[str, torch.Tensor]:
    """Tokenise (texts or ``(text, text_pair)`` pairs, :func:`jtask2vec.tasks.text_inputs.encode`), truncate
    to
    ``max_length`` and pad to the longest input of the batch."""
    return pad(encode(tokenizer, texts, max_length), tokenizer.pad_token_id)
