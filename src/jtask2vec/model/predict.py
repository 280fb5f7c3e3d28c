"""A classifier on texts: tokenising, length-bucketed batches with dynamic padding, prediction and the
binary classification metrics (accuracy, macro-F1, balanced accuracy) that every fine-tune reports."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.device import model_device
from jtask2vec.tasks.text_inputs import Encoded, TextInput, encode, pad

BUCKET_BATCHES = 50  # length-bucketing window: sort by length within chunks of this many batches


# ---- metrics --------------------------------------------------------------------------------------------
def classification_metrics(
    labels: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray
) -> dict[str, float]:
    """Accuracy, macro-F1 and balanced accuracy of binary predictions.

    With ``C[i, j]`` = #(label i, predicted j): accuracy = trace(C)/n; F1_c = 2 C[c,c] / (row_c + col_c)
    (0 when both are 0); macro-F1 = mean over the two classes; balanced accuracy = mean over classes
    present in ``labels`` of the recall C[c,c]/row_c.
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predictions, dtype=np.int64)
    if y.shape != p.shape:
        raise ValueError(f"labels {y.shape} and predictions {p.shape} differ in shape")
    n = len(y)
    if n == 0:
        return {"accuracy": math.nan, "macro_f1": math.nan, "balanced_accuracy": math.nan, "n": 0}
    conf = np.zeros((2, 2), dtype=np.int64)
    np.add.at(conf, (y, p), 1)
    rows, cols, diag = conf.sum(1), conf.sum(0), np.diag(conf)
    f1 = [2 * diag[c] / (rows[c] + cols[c]) if rows[c] + cols[c] else 0.0 for c in (0, 1)]
    recalls = [diag[c] / rows[c] for c in (0, 1) if rows[c]]
    return {
        "accuracy": float(diag.sum() / n),
        "macro_f1": float(np.mean(f1)),
        "balanced_accuracy": float(np.mean(recalls)),
        "n": int(n),
    }


# ---- batching -------------------------------------------------------------------------------------------
def tokenize(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[TextInput], max_length: int
) -> list[Encoded]:
    """Each input (a text or a ``(text, text_pair)``) tokenised by :func:`jtask2vec.tasks.text_inputs.encode`:
    special tokens and pair template included, truncated to ``max_length`` longest side first, unpadded."""
    if not texts:
        return []
    return encode(tokenizer, texts, max_length)


def _as_encoded(item: Encoded | Sequence[int]) -> Encoded:
    return item if isinstance(item, dict) else {"input_ids": list(item)}


def n_tokens(item: Encoded | Sequence[int]) -> int:
    """Length of a tokenised input (an :data:`Encoded` dict or a plain list of ids)."""
    return len(item["input_ids"]) if isinstance(item, dict) else len(item)


def collate(
    ids: Sequence[Encoded | Sequence[int]], pad_id: int, device: torch.device | None = None
) -> dict[str, torch.Tensor]:
    """Right-pad to the longest sequence of the batch: ``input_ids``, ``attention_mask`` and, where the
    tokenizer returned them, ``token_type_ids`` (batch, length). Items are tokenised inputs (see
    :func:`tokenize`) or plain lists of token ids."""
    batch = pad([_as_encoded(x) for x in ids], pad_id)
    if device is not None and device.type != "cpu":
        batch = {k: v.to(device) for k, v in batch.items()}
    return batch


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of indices where each batch holds texts of similar length.

    Indices are shuffled, cut into chunks of ``BUCKET_BATCHES * batch_size``, sorted by length inside each
    chunk, cut into batches, and the batches shuffled: every index appears exactly once per epoch.
    """
    order = rng.permutation(len(lengths))
    lens = np.asarray(lengths)
    chunk = batch_size * BUCKET_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lens[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


# ---- evaluation -----------------------------------------------------------------------------------------
@torch.inference_mode()
def predict(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[TextInput],
    max_length: int,
    batch_size: int,
    *,
    token_ids: Sequence[Encoded | Sequence[int]] | None = None,
) -> np.ndarray:
    """Predicted labels (n,) of ``texts``, in eval mode, batched by sorted length."""
    ids = token_ids if token_ids is not None else tokenize(tokenizer, texts, max_length)
    preds = np.zeros(len(ids), dtype=np.int64)
    if not len(ids):
        return preds
    was_training = model.training
    model.eval()
    order = np.argsort([n_tokens(x) for x in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = collate([ids[i] for i in idx], tokenizer.pad_token_id, model_device(model))
        preds[idx] = model(**batch).argmax(-1).cpu().numpy()
    model.train(was_training)
    return preds


def evaluate_classifier(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[TextInput],
    labels: Sequence[int] | np.ndarray,
    max_length: int,
    batch_size: int,
) -> dict[str, float]:
    """``classification_metrics`` (accuracy, macro_f1, balanced_accuracy, n) of ``model`` on the texts."""
    return classification_metrics(labels, predict(model, tokenizer, texts, max_length, batch_size))
