"""One fine-tuning routine: encoder + fresh linear head on a task's train split, epoch picked on dev.

A transfer is the same call started from a fine-tuned source encoder (``start``, passed in as a loaded
module): the source head is not used and a fresh head is drawn, exactly as for a fine-tune from the
pretrained probe.

Recipe: cross-entropy, AdamW (no weight decay on biases and LayerNorm weights), linear warmup then
linear decay (``get_linear_schedule_with_warmup``), gradient-norm clipping, length-bucketed batches with
dynamic padding. After every epoch the dev split is scored (``TrainingConfig.select_on``); the best
epoch's weights are kept and scored on test.

At size (a 117.5M-parameter probe on 2 CPU cores): ``TrainingConfig.freeze_word_embeddings`` leaves the
word-embedding table out of training (no gradient, no AdamW state); ``TrainingConfig.precision`` runs the
forward and backward passes (training and the dev/test predictions) under bf16 autocast, with float32
weights and optimizer state; each task is tokenised once per probe and process (:func:`encoded_inputs`).

Determinism: ``seed`` fixes the head initialisation, dropout (torch RNG, forked so the caller's RNG is
untouched), the train subsample and the batch order (numpy ``default_rng(seed)``). Same seed on the CPU
gives identical numbers.

Pure computation: explicit inputs (task, probe, recipe, seed, start encoder), values out (the trained
classifier and its :class:`FinetuneResult`). Nothing here touches the artifact store, computes a key or
writes a file: the ``finetune`` stage (:mod:`jtask2vec.jobs.stages`) maps a job to its key, loads a transfer's
source encoder, calls :func:`finetune` and publishes the checkpoint. May import: config, errors, probes,
modeling, classify, tasks, text_inputs, device.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from transformers import PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from jtask2vec.config import TrainingConfig
from jtask2vec.errors import DataError
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.device import model_device, resolve_device
from jtask2vec.model.predict import (
    bucketed_batches,
    classification_metrics,
    collate,
    n_tokens,
    predict,
    tokenize,
)
from jtask2vec.model.probes import Probe, own_word_embeddings
from jtask2vec.tasks.base import Task
from jtask2vec.tasks.splits import stratified_subsample
from jtask2vec.tasks.text_inputs import Encoded


@dataclass
class FinetuneResult:
    """Test-split scores of one fine-tune, the selected epoch, and (filled in by the stage that publishes
    it) the store key of its checkpoint.

    ``train_seconds`` is the wall time of training plus the per-epoch dev scoring;
    ``examples_per_second`` counts training examples over the time spent in training steps only.
    """

    task: str
    seed: int
    accuracy: float
    macro_f1: float
    balanced_accuracy: float
    best_epoch: int  # 1-based
    dev_metric: float  # the select_on metric of best_epoch on dev (nan without a dev split)
    train_seconds: float
    examples_per_second: float
    n_train: int
    n_dev: int
    n_test: int
    source: str | None  # None = from the pretrained probe, else the source task name
    checkpoint_key: str = ""  # store key (kind "finetune") of the checkpoint; set by the publishing stage
    precision: str = "fp32"  # what ran: "fp32" or "bf16" (``TrainingConfig.precision`` resolved)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> FinetuneResult:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in names})


# ---- precision, frozen word embeddings, tokenised inputs ------------------------------------------------
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX-BF16 in ``/proc/cpuinfo``'s flags)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> str:
    """``fp32`` or ``bf16`` for ``TrainingConfig.precision`` on ``device`` (``auto``: bf16 where native)."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` for ``precision == "bf16"``, else nothing."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def freeze_word_embeddings(encoder: nn.Module) -> list[str]:
    """Stop training ``encoder``'s word-embedding table; returns its parameter names (in the encoder)."""
    table = encoder.get_input_embeddings().weight  # type: ignore[operator]
    table.requires_grad_(False)
    return [name for name, p in encoder.named_parameters() if p is table]


_ENCODED: OrderedDict[tuple, list[Encoded]] = OrderedDict()
_ENCODED_SIZE = 8  # tasks kept per process (a worker runs one suite's few tasks over and over)


def encoded_inputs(task: Task, probe: Probe) -> list[Encoded]:
    """Every input of ``task`` tokenised for ``probe`` (special tokens, truncated to ``max_length``,
    unpadded), computed once per process and reused by every fine-tune of the task with this probe."""
    key = (task.name, task.data_hash, probe.fingerprint, probe.max_length, id(probe.tokenizer))
    if key in _ENCODED:
        _ENCODED.move_to_end(key)
        return _ENCODED[key]
    ids = tokenize(probe.tokenizer, list(task.inputs), probe.max_length)
    _ENCODED[key] = ids
    while len(_ENCODED) > _ENCODED_SIZE:
        _ENCODED.popitem(last=False)
    return ids


# ---- progress -------------------------------------------------------------------------------------------
class _Progress:
    """A rich progress bar with examples/s, shown only on a terminal and when asked for."""

    def __init__(self, enabled: bool, description: str, total: int) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.0f} ex/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task_id = self.bar.add_task(description, total=total, rate=0.0)
            self.bar.start()

    def advance(self, n: int, rate: float) -> None:
        if self.bar is not None:
            self.bar.update(self.task_id, advance=n, rate=rate)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# ---- fine-tuning ----------------------------------------------------------------------------------------
def _optimizer(model: nn.Module, training: TrainingConfig) -> torch.optim.AdamW:
    """AdamW; no weight decay on biases and LayerNorms; the head (``head.*``) at ``head_learning_rate``."""
    head_lr = training.head_learning_rate or training.learning_rate
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        no_decay = param.ndim < 2 or "LayerNorm" in name or "layer_norm" in name
        groups.setdefault((name.startswith("head."), no_decay), []).append(param)
    return torch.optim.AdamW(
        [
            {
                "params": params,
                "weight_decay": 0.0 if no_decay else training.weight_decay,
                "lr": head_lr if is_head else training.learning_rate,
            }
            for (is_head, no_decay), params in sorted(groups.items())
        ],
        lr=training.learning_rate,
    )


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """``n / (k * n_c)`` per class (float32): every class weighs as much in the loss as it would in a
    balanced training set. A class with no training example gets weight 0 (nothing to weigh)."""
    labels = np.asarray(labels, dtype=np.int64)
    present = np.unique(labels)
    weights = np.zeros(n_classes, dtype=np.float64)
    weights[present] = compute_class_weight("balanced", classes=present, y=labels)
    return weights.astype(np.float32)


def train_classifier(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    train_ids: Sequence[Encoded | Sequence[int]],
    train_labels: np.ndarray,
    dev_ids: Sequence[Encoded | Sequence[int]],
    dev_labels: np.ndarray,
    training: TrainingConfig,
    rng: np.random.Generator,
    *,
    progress: bool = True,
    description: str = "fine-tune",
) -> dict[str, Any]:
    """Train ``model`` in place; restore the best dev epoch's weights. Returns timing and selection facts.

    The caller seeds torch (head init, dropout); ``rng`` orders the batches.
    """
    device = model_device(model)
    precision = resolve_precision(training.precision, device)
    labels_t = torch.as_tensor(np.asarray(train_labels), dtype=torch.long, device=device)
    lengths = [n_tokens(x) for x in train_ids]
    n_batches = math.ceil(len(train_ids) / training.batch_size)
    total_steps = n_batches * training.epochs
    optimizer = _optimizer(model, training)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, round(training.warmup_ratio * total_steps), max(total_steps, 1)
    )
    weight = None
    if training.class_weight == "balanced":
        weight = torch.as_tensor(balanced_class_weights(train_labels, model.head.out_features), device=device)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    # the best epoch's snapshot leaves out what training cannot change (frozen word embeddings: 384 MB)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    best: tuple[float, int, dict[str, torch.Tensor] | None] = (-math.inf, training.epochs, None)
    step_seconds, seen, started = 0.0, 0, time.perf_counter()
    bar = _Progress(progress, description, total=len(train_ids) * training.epochs)
    try:
        for epoch in range(1, training.epochs + 1):
            model.train()
            for batch_idx in bucketed_batches(lengths, training.batch_size, rng):
                t0 = time.perf_counter()
                batch = collate([train_ids[i] for i in batch_idx], tokenizer.pad_token_id, device)
                with autocast(precision, device):
                    logits = model(**batch)
                loss = loss_fn(logits.float(), labels_t[torch.as_tensor(batch_idx, device=device)])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if training.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), training.max_grad_norm)
                optimizer.step()
                scheduler.step()
                step_seconds += time.perf_counter() - t0
                seen += len(batch_idx)
                bar.advance(len(batch_idx), rate=seen / step_seconds if step_seconds > 0 else 0.0)
            if len(dev_ids):
                with autocast(precision, device):
                    preds = predict(model, tokenizer, [], 0, training.eval_batch_size, token_ids=dev_ids)
                score = classification_metrics(dev_labels, preds)[training.select_on]
                if score > best[0]:
                    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k not in frozen}
                    best = (score, epoch, state)
    finally:
        bar.close()
    if best[2] is not None:
        model.load_state_dict(best[2], strict=False)
    model.eval()
    examples = len(train_ids) * training.epochs
    return {
        "best_epoch": best[1],
        "dev_metric": best[0] if best[2] is not None else math.nan,
        "train_seconds": time.perf_counter() - started,
        "examples_per_second": examples / step_seconds if step_seconds > 0 else math.nan,
        "precision": precision,
    }


@dataclass
class Finetuned:
    """What :func:`finetune` returns: the trained classifier (eval mode, best dev epoch) and its scores."""

    model: EncoderClassifier
    result: FinetuneResult


def finetune(
    task: Task,
    probe: Probe,
    training: TrainingConfig,
    seed: int,
    *,
    start: nn.Module | None = None,
    source_name: str | None = None,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> Finetuned:
    """Fine-tune the probe's encoder (or ``start``) + a fresh head on ``task``; score the best epoch on test.

    - ``start``: the encoder a transfer starts from (a fine-tuned source's encoder, loaded by the caller);
      it is trained in place. ``None``: a fresh copy of the pretrained probe's encoder.
    - ``source_name``: the source task's name, recorded in the result (``None`` for no transfer).
    - ``device``: where to train (``"auto"``, ``"cpu"``, ``"cuda"``...). Seeded runs are bit-identical on
      the CPU; on a GPU, up to the kernels' own nondeterminism.
    """
    train_idx, dev_idx, test_idx = (task.indices(s) for s in ("train", "dev", "test"))
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise DataError(f"task {task.name!r} needs train and test examples (sizes: {task.split_sizes()})")
    bad = np.flatnonzero((task.labels != 0) & (task.labels != 1))
    if len(bad):
        raise DataError(f"task {task.name!r}: label {task.labels[bad[0]]} of example {bad[0]} is not 0 or 1")
    rng = np.random.default_rng(seed)
    if training.train_subsample is not None and training.train_subsample < len(train_idx):
        train_idx = train_idx[stratified_subsample(task.labels[train_idx], training.train_subsample, seed)]
    if start is None:
        encoder = probe.fresh_encoder(share_word_embeddings=training.freeze_word_embeddings)
    else:
        encoder = start
        if not training.freeze_word_embeddings:
            own_word_embeddings(encoder, probe)  # a delta checkpoint's start shares the probe's table
    if training.freeze_word_embeddings:
        freeze_word_embeddings(encoder)

    tokenizer = probe.tokenizer
    ids = encoded_inputs(task, probe)
    train_ids, dev_ids = [ids[i] for i in train_idx], [ids[i] for i in dev_idx]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = EncoderClassifier(encoder, probe.pooling, num_labels=2, dropout=training.head_dropout)
        model.to(resolve_device(device) if isinstance(device, str) else device)
        facts = train_classifier(
            model,
            tokenizer,
            train_ids,
            task.labels[train_idx],
            dev_ids,
            task.labels[dev_idx],
            training,
            rng,
            progress=progress,
            description=f"{source_name + ' → ' if source_name else ''}{task.name} (seed {seed})",
        )
    target = model_device(model)
    with autocast(facts["precision"], target):
        preds = predict(
            model, tokenizer, [], 0, training.eval_batch_size, token_ids=[ids[i] for i in test_idx]
        )
    test = classification_metrics(task.labels[test_idx], preds)
    result = FinetuneResult(
        task=task.name,
        seed=int(seed),
        accuracy=test["accuracy"],
        macro_f1=test["macro_f1"],
        balanced_accuracy=test["balanced_accuracy"],
        best_epoch=int(facts["best_epoch"]),
        dev_metric=float(facts["dev_metric"]),
        train_seconds=float(facts["train_seconds"]),
        examples_per_second=float(facts["examples_per_second"]),
        n_train=len(train_idx),
        n_dev=len(dev_idx),
        n_test=len(test_idx),
        source=source_name,
        precision=str(facts["precision"]),
    )
    return Finetuned(model, result)
