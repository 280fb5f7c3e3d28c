"""`TaskEmbedding`: a task's vector from the diagonal Fisher of its fine-tuned probe, with provenance.

Pure computation: a model and inputs in, a :class:`TaskEmbedding` value out. Nothing here reads or writes
the store or a file; :mod:`jtask2vec.jobs.embedding_files` saves and loads an embedding folder and the
stages
(:mod:`jtask2vec.jobs.stages`) publish it. May import: config, errors, fisher, modeling, tasks, text_inputs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from jtask2vec.config import FisherConfig
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.fisher import activation_fisher, diagonal_fisher
from jtask2vec.fisher.reductions import by_layer, reduce_fisher
from jtask2vec.fisher.sampling import select_examples
from jtask2vec.fisher.scopes import embedding_table_names
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.tasks.base import Task
from jtask2vec.tasks.text_inputs import TextInput


@dataclass
class TaskEmbedding:
    """``vector``: the task vector; ``layers``: the same reduction per layer group (``layer.N``,
    ``embeddings``, ``other``; empty for the activation reduction); ``meta``: how it was made;
    ``raw``: the per-parameter diagonal Fisher when kept (``FisherConfig.save_raw``)."""

    vector: np.ndarray
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, torch.Tensor] | None = None


def embed_task(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    task: Task,
    config: FisherConfig,
    max_length: int,
    *,
    seed: int,
    probe_name: str,
    progress: bool = False,
) -> TaskEmbedding:
    """Embed ``task`` by the Fisher of ``model`` on its ``config.split`` examples (see
    :func:`jtask2vec.fisher.diagonal_fisher` and :mod:`jtask2vec.fisher.reductions`); a sentence-pair
    task's examples are its ``(text, text_pair)`` inputs."""
    texts = task.inputs_of(config.split)
    labels = task.labels_of(config.split)
    if not texts:
        raise DataError(f"task {task.name!r} has no {config.split!r} examples to embed", field="fisher.split")
    return embed_inputs(
        model, tokenizer, texts, labels, config, max_length, seed=seed, probe_name=probe_name,
        task_name=task.name, data_hash=task.data_hash, progress=progress,
    )  # fmt: skip


def embed_inputs(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[TextInput],
    labels: np.ndarray,
    config: FisherConfig,
    max_length: int,
    *,
    seed: int,
    probe_name: str,
    task_name: str,
    data_hash: str,
    progress: bool = False,
) -> TaskEmbedding:
    """The embedding of ``model`` on the inputs ``texts`` (texts and/or pairs) with ``labels``."""
    hidden = int(model.head.in_features)
    raw = None
    if config.reduction == "activation":
        vector = activation_fisher(
            model, tokenizer, texts, labels, config, max_length, seed=seed, progress=progress
        ).numpy()
        layers: dict[str, np.ndarray] = {}
        n_params = 0
    else:
        fisher = diagonal_fisher(
            model, tokenizer, texts, labels, config, max_length, seed=seed, progress=progress
        )
        tables = {f"encoder.{n}" for n in embedding_table_names(model.encoder)}
        vector = reduce_fisher(fisher, config.reduction, hidden, tables)
        layers = {}
        for key, group in by_layer(fisher).items():
            try:
                layers[key] = reduce_fisher(group, config.reduction, hidden, tables)
            except ConfigError:  # a group with no hidden-size axis has no hidden-reduction slice
                continue
        n_params = int(sum(v.numel() for v in fisher.values()))
        raw = fisher if config.save_raw else None
    used = select_examples(len(texts), labels, config.max_examples, config.class_balanced, seed)
    meta = {
        "task": task_name,
        "task_data_hash": data_hash,
        "probe": probe_name,
        "estimator": config.estimator,
        "scope": config.scope,
        "reduction": config.reduction,
        "include_embeddings": config.include_embeddings,
        "split": config.split,
        "num_examples": len(used),
        "class_balanced": config.class_balanced,
        "mc_samples": config.mc_samples,
        "seed": seed,
        "max_length": max_length,
        "hidden_size": hidden,
        "fisher_parameters": n_params,
        "dimension": len(vector),
        "fisher_config": config.model_dump(mode="json"),
    }
    return TaskEmbedding(vector=np.asarray(vector, dtype=np.float64), layers=layers, meta=meta, raw=raw)


def trivial_embedding(
    encoder: torch.nn.Module,
    pooling: str,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[TextInput],
    config: FisherConfig,
    max_length: int,
    *,
    seed: int,
    probe_name: str,
    progress: bool = False,
) -> TaskEmbedding:
    """``t0`` of the asymmetric distance: the embedding of the *pretrained* probe (``encoder``, not
    fine-tuned, copied) with a fresh head drawn from ``seed``, on ``texts`` (e.g. a sample of all the
    suite's tasks).

    Why: TASK2VEC's ``t0`` is the probe's own "trivial" embedding, the Fisher before any task is learned;
    its distance to a source measures how much that source moved the probe (its complexity). With the
    ``exact`` estimator the labels do not enter (the expectation is over the model's own predictions),
    so ``t0`` is a property of the probe and the text distribution alone, and a fresh near-uniform head
    (``p ≈ ½``) plays the untrained task. Other estimators are computed with random labels.
    """
    import copy

    generator = torch.Generator().manual_seed(seed)
    model = EncoderClassifier(copy.deepcopy(encoder), pooling)
    with torch.no_grad():
        std = float(getattr(getattr(encoder, "config", None), "initializer_range", 0.02))
        model.head.weight.copy_(torch.randn(model.head.weight.shape, generator=generator) * std)
    model.to(next(encoder.parameters()).device, next(encoder.parameters()).dtype)
    labels = np.random.default_rng(seed).integers(0, 2, size=len(texts))
    digest = hashlib.sha256(json.dumps([texts, labels.tolist()], ensure_ascii=False).encode()).hexdigest()
    embedding = embed_inputs(
        model, tokenizer, list(texts), labels, config, max_length, seed=seed, probe_name=probe_name,
        task_name="trivial", data_hash=digest, progress=progress,
    )  # fmt: skip
    embedding.meta["trivial"] = True
    return embedding
