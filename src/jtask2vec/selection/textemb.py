"""Features for the TextEmb and LogME selectors: pretrained-probe text vectors, fine-tuned pooled features."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from jtask2vec.model.classifier import EncoderClassifier, encode_texts, pool
from jtask2vec.model.probes import Probe
from jtask2vec.tasks.text_inputs import TextInput


def _device(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


def _as_inputs(texts: Sequence[TextInput]) -> list[TextInput]:
    return [t if isinstance(t, tuple) else str(t) for t in texts]


def _check_texts(texts: Sequence[TextInput], batch_size: int) -> None:
    if len(texts) == 0:
        raise ValueError("no texts to encode")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")


def text_embedding(probe: Probe, texts: Sequence[TextInput], batch_size: int = 64) -> np.ndarray:
    """TextEmb task vector (Vu et al. 2020), shape (hidden,), float64.

    ``mean over texts of mean-pool(last hidden state of the pretrained probe)``: each text is mean-pooled
    over its non-padding tokens (whatever the probe's own pooling), then the text vectors are averaged.
    A sentence pair is one input (the tokenizer's pair template), pooled over both sentences.
    """
    texts = _as_inputs(texts)
    _check_texts(texts, batch_size)
    encoder = probe.encoder
    was_training = encoder.training
    encoder.eval()
    total = torch.zeros(probe.hidden_size, dtype=torch.float64)
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                batch = encode_texts(probe.tokenizer, texts[start : start + batch_size], probe.max_length)
                batch = {k: v.to(_device(encoder)) for k, v in batch.items()}
                hidden = encoder(**batch).last_hidden_state
                total += pool(hidden, batch["attention_mask"], "mean").double().sum(dim=0).cpu()
    finally:
        encoder.train(was_training)
    return (total / len(texts)).numpy()


def extract_features(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[TextInput],
    max_length: int,
    batch_size: int = 64,
) -> np.ndarray:
    """Pooled features (``model.features``: the head's input), shape (N, hidden), float32, eval mode.
    ``texts`` are model inputs: texts, or ``(text, text_pair)`` pairs."""
    texts = _as_inputs(texts)
    _check_texts(texts, batch_size)
    was_training = model.training
    model.eval()
    chunks = []
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                batch = encode_texts(tokenizer, texts[start : start + batch_size], max_length)
                batch = {k: v.to(_device(model)) for k, v in batch.items()}
                chunks.append(model.features(**batch).float().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(chunks, axis=0)
