"""One fine-tuning routine: encoder + fresh linear head on a task's train split, epoch picked on dev.

A transfer is the same call started from a saved fine-tuned encoder (``init_from``): the source head is
dropped and a fresh head is drawn, exactly as for a fine-tune from the pretrained probe.

Recipe: cross-entropy, AdamW (no weight decay on biases and LayerNorm weights), linear warmup then
linear decay (``get_linear_schedule_with_warmup``), gradient-norm clipping, length-bucketed batches with
dynamic padding. After every epoch the dev split is scored (``TrainingConfig.select_on``); the best
epoch's weights are kept and scored on test.

Determinism: ``seed`` fixes the head initialisation, dropout (torch RNG, forked so the caller's RNG is
untouched), the train subsample and the batch order (numpy ``default_rng(seed)``). Same seed on the CPU
gives identical numbers.

Results and checkpoints are cached in the artifact store under :func:`finetune_key`; a re-run with the
same inputs returns the stored result without training.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from jtask2vec.checkpoints import FINETUNE_KIND, finetuned_folder, save_classifier
from jtask2vec.classify import (
    bucketed_batches,
    classification_metrics,
    collate,
    evaluate_classifier,
    n_tokens,
    predict,
    tokenize,
)
from jtask2vec.config import TrainingConfig
from jtask2vec.device import model_device, resolve_device
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.keys import finetune_key
from jtask2vec.modeling import EncoderClassifier
from jtask2vec.probes import Probe, load_encoder, quiet_hf_progress
from jtask2vec.store import ArtifactStore, atomic_write_json, read_json
from jtask2vec.tasks.base import Task
from jtask2vec.tasks.splits import stratified_subsample
from jtask2vec.text_inputs import Encoded

RESULT_FILE = "result.json"


@dataclass
class FinetuneResult:
    """Test-split scores of one fine-tune, the selected epoch, and where its checkpoint lives.

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
    checkpoint_key: str  # store key (kind "finetune") of the saved fine-tuned classifier

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> FinetuneResult:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in names})


# ---- caching (keys: jtask2vec.keys.finetune_key, re-exported here) ---------------------------------------
def load_result(store: ArtifactStore, key: str) -> FinetuneResult | None:
    """The stored result of fine-tune ``key``, or None when it has not finished."""
    folder = store.open(FINETUNE_KIND, key)  # checked; a corrupt one is quarantined and reads as absent
    if folder is None:
        return None
    return FinetuneResult.from_dict(read_json(folder / RESULT_FILE))


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
    labels_t = torch.as_tensor(np.asarray(train_labels), dtype=torch.long, device=device)
    lengths = [n_tokens(x) for x in train_ids]
    n_batches = math.ceil(len(train_ids) / training.batch_size)
    total_steps = n_batches * training.epochs
    optimizer = _optimizer(model, training)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, round(training.warmup_ratio * total_steps), max(total_steps, 1)
    )
    loss_fn = nn.CrossEntropyLoss()
    best: tuple[float, int, dict[str, torch.Tensor] | None] = (-math.inf, training.epochs, None)
    step_seconds, seen, started = 0.0, 0, time.perf_counter()
    bar = _Progress(progress, description, total=len(train_ids) * training.epochs)
    try:
        for epoch in range(1, training.epochs + 1):
            model.train()
            for batch_idx in bucketed_batches(lengths, training.batch_size, rng):
                t0 = time.perf_counter()
                batch = collate([train_ids[i] for i in batch_idx], tokenizer.pad_token_id, device)
                loss = loss_fn(model(**batch), labels_t[torch.as_tensor(batch_idx, device=device)])
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
                preds = predict(model, tokenizer, [], 0, training.eval_batch_size, token_ids=dev_ids)
                score = classification_metrics(dev_labels, preds)[training.select_on]
                if score > best[0]:
                    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    best = (score, epoch, state)
    finally:
        bar.close()
    if best[2] is not None:
        model.load_state_dict(best[2])
    model.eval()
    examples = len(train_ids) * training.epochs
    return {
        "best_epoch": best[1],
        "dev_metric": best[0] if best[2] is not None else math.nan,
        "train_seconds": time.perf_counter() - started,
        "examples_per_second": examples / step_seconds if step_seconds > 0 else math.nan,
    }


def finetune(
    task: Task,
    probe: Probe,
    training: TrainingConfig,
    seed: int,
    *,
    store: ArtifactStore | None = None,
    init_from: str | None = None,
    source_name: str | None = None,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> FinetuneResult:
    """Fine-tune the probe (or the encoder of checkpoint ``init_from``) + a fresh head on ``task``.

    - ``init_from``: store key of a fine-tuned source classifier (a ``FinetuneResult.checkpoint_key``);
      its encoder is the starting point, its head is dropped. Needs ``store``.
    - ``source_name``: the source task's name, recorded in the result (defaults to the source
      checkpoint's task name).
    - With ``store``, the result and the classifier are published atomically under
      ``finetune_key(...)`` (kind ``finetune``) and a later call with the same inputs returns the stored
      result without training. Without a store nothing is written (``checkpoint_key`` is still the key).
    - ``device``: where to train (``"auto"``, ``"cpu"``, ``"cuda"``...); not part of the key. Seeded runs
      are bit-identical on the CPU; on a GPU, up to the kernels' own nondeterminism.
    """
    if init_from is not None and store is None:
        raise ConfigError("a transfer (init_from) needs the artifact store that holds the source checkpoint")
    args = (task, probe, training, seed, store, init_from, source_name, progress, device)
    if store is None:
        return _finetune(*args)
    # check, claim (a concurrent process asking for the same fine-tune waits), re-check inside, compute
    key = finetune_key(task, probe, training, seed, init_from)
    cached = load_result(store, key)
    if cached is not None:
        return cached
    with store.claim(FINETUNE_KIND, key):
        return _finetune(*args)


def _finetune(
    task: Task,
    probe: Probe,
    training: TrainingConfig,
    seed: int,
    store: ArtifactStore | None,
    init_from: str | None,
    source_name: str | None,
    progress: bool,
    device: str | torch.device,
) -> FinetuneResult:
    key = finetune_key(task, probe, training, seed, init_from)
    if store is not None:
        cached = load_result(store, key)
        if cached is not None:
            return cached

    train_idx, dev_idx, test_idx = (task.indices(s) for s in ("train", "dev", "test"))
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise DataError(f"task {task.name!r} needs train and test examples (sizes: {task.split_sizes()})")
    bad = np.flatnonzero((task.labels != 0) & (task.labels != 1))
    if len(bad):
        raise DataError(f"task {task.name!r}: label {task.labels[bad[0]]} of example {bad[0]} is not 0 or 1")
    rng = np.random.default_rng(seed)
    if training.train_subsample is not None and training.train_subsample < len(train_idx):
        train_idx = train_idx[stratified_subsample(task.labels[train_idx], training.train_subsample, seed)]

    if init_from is not None:
        assert store is not None
        folder = finetuned_folder(store, init_from)
        with torch.random.fork_rng(devices=[]), quiet_hf_progress():
            encoder = load_encoder(folder)
        if source_name is None:
            source_result = load_result(store, init_from)
            source_name = source_result.task if source_result is not None else init_from
    else:
        encoder = probe.fresh_encoder()

    tokenizer = probe.tokenizer
    texts = task.inputs
    ids = tokenize(tokenizer, [texts[i] for i in np.concatenate([train_idx, dev_idx])], probe.max_length)
    train_ids, dev_ids = ids[: len(train_idx)], ids[len(train_idx) :]

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
    test = evaluate_classifier(
        model,
        tokenizer,
        [texts[i] for i in test_idx],
        task.labels[test_idx],
        probe.max_length,
        training.eval_batch_size,
    )
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
        checkpoint_key=key,
    )
    if store is not None:
        meta = {
            "task": task.name,
            "label_names": list(task.label_names),
            "data_hash": task.data_hash,
            "probe": probe.name,
            "probe_fingerprint": probe.fingerprint,
            "max_length": probe.max_length,
            "seed": int(seed),
            "init_from": init_from,
            "source": source_name,
            "training": training.model_dump(mode="json"),
        }
        with store.staging(FINETUNE_KIND, key, inputs=meta) as stage:
            save_classifier(model, tokenizer, stage, meta)
            atomic_write_json(stage / RESULT_FILE, result.to_dict())
    return result
