"""Every content key of the artifact store, in one place, with each stage's algorithm version.

An artifact's key is a hash of *everything that can change its numbers*: the stage's algorithm version
(:data:`STAGE_VERSIONS`), the data (a task's ``data_hash`` covers its loader options, split, partition
and subsample), the probe's identity (weights fingerprint, pooling, maximum length) and the stage's own
config. Nothing else goes in: the device, progress bars and the evaluation settings never change a
stored artifact, so they never change a key.

**Bump a stage's version when its numbers change** (a fix to fine-tuning, to the Fisher, to a selector):
old artifacts are then never reused. The golden tests (``tests/jobs/test_golden.py``) recompute a tiny fixed
case per stage and compare it with the values checked in under ``tests/jobs/golden/<stage>.json`` (each file
records the stage version it was made with), within a relative tolerance of 1e-4 that float rounding
across CPUs stays far below: a change of result without a version bump fails, and so does a bump without
new golden values. After bumping, regenerate them with

    pytest tests/jobs/test_golden.py --update-golden -n 0

``tests/jobs/test_keys.py`` perturbs every field of a suite and asserts exactly which stages' keys change,
so a new config field that is forgotten here fails a test instead of serving stale results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from jtask2vec.config import FisherConfig, TrainingConfig
from jtask2vec.store.artifacts import content_key
from jtask2vec.tasks.base import Task

# Stage -> algorithm version. Bump the stage (and regenerate its golden values) when its numbers change.
STAGE_VERSIONS: dict[str, str] = {
    "finetune": "1",  # training.py (recipe, batching, metrics), modeling.py, checkpoints.py
    "embedding": "1",  # fisher/*, embedding.py
    "trivial-embedding": "1",  # distances.trivial_embedding_for_probe + embedding.trivial_embedding
    "textemb": "1",  # selection/textemb.text_embedding
    # selection/features.py (one pass: pooled features + head probabilities); each selector has its own
    # version too: jtask2vec.selection.feature_based.VERSIONS
    "selector-score": "2",  # 2: float32-aware covariance numerics, flagged failures (issue 16)
}

# Store kinds of the stages (the store folder each one publishes to).
STAGE_KINDS: dict[str, str] = {stage: stage for stage in STAGE_VERSIONS}


class ProbeIdentity(Protocol):
    """What a key needs of a probe (a :class:`jtask2vec.model.probes.Probe` has it)."""

    fingerprint: str
    pooling: str
    max_length: int


def stage_key(stage: str, payload: Mapping[str, Any]) -> str:
    """The key of an artifact of ``stage``: a hash of its algorithm version and ``payload``."""
    if stage not in STAGE_VERSIONS:
        raise KeyError(f"unknown stage {stage!r}; known: {', '.join(STAGE_VERSIONS)}")
    return content_key({"stage": stage, "stage_version": STAGE_VERSIONS[stage], "inputs": dict(payload)})


def probe_identity(probe: ProbeIdentity) -> dict[str, Any]:
    return {"probe": probe.fingerprint, "pooling": probe.pooling, "max_length": int(probe.max_length)}


# TrainingConfig fields added after stores existed: left out of the key at their default, so older keys
# (and every stored fine-tune) stay valid.
TRAINING_DEFAULTS_OUT_OF_KEY: dict[str, Any] = {
    "freeze_word_embeddings": False,
    "precision": "fp32",
    "keep_transfer_checkpoints": False,
    "head_learning_rate": None,
    "class_weight": "none",
}


def training_identity(training: TrainingConfig, transfer: bool = True) -> dict[str, Any]:
    """What a fine-tune key records of ``training``: every field, the later ones only when not default
    (``keep_transfer_checkpoints`` only for a transfer's target fine-tune, the one it changes)."""
    fields = training.model_dump(mode="json")
    if not transfer:
        fields.pop("keep_transfer_checkpoints")
    return {k: v for k, v in fields.items() if TRAINING_DEFAULTS_OUT_OF_KEY.get(k, ...) != v}


def finetune_key(
    task: Task, probe: ProbeIdentity, training: TrainingConfig, seed: int, init_from: str | None = None
) -> str:
    """``finetune(task, probe, training, seed, init_from=...)``: a fine-tune from the pretrained probe,
    or (``init_from`` = a source checkpoint's key) the target fine-tune of a transfer."""
    return stage_key(
        "finetune",
        {
            "task": task.name,
            "data": task.data_hash,
            **probe_identity(probe),
            "training": training_identity(training, transfer=init_from is not None),
            "seed": int(seed),
            "init_from": init_from,
        },
    )


def embedding_key(checkpoint_key: str, fisher: FisherConfig, probe: ProbeIdentity, seed: int) -> str:
    """The task embedding of a fine-tuned checkpoint (its key covers the task's data and the probe)."""
    return stage_key(
        "embedding",
        {"checkpoint": checkpoint_key, "fisher": fisher, **probe_identity(probe), "seed": int(seed)},
    )


def trivial_embedding_key(
    probe: ProbeIdentity, fisher: FisherConfig, seed: int, tasks: Iterable[Task]
) -> str:
    """``t0`` of the asymmetric distance: the pretrained probe's Fisher on a sample of the tasks' texts."""
    return stage_key(
        "trivial-embedding",
        {
            **probe_identity(probe),
            "fisher": fisher,
            "seed": int(seed),
            "tasks": sorted(t.data_hash for t in tasks),
        },
    )


def textemb_key(probe: ProbeIdentity, task: Task) -> str:
    """TextEmb vector of the pretrained probe on the task's train texts."""
    return stage_key("textemb", {**probe_identity(probe), "data": task.data_hash})


def selector_scores_key(
    selectors: Sequence[str],
    checkpoint_key: str,
    target: Task,
    probe: ProbeIdentity,
    *,
    layers: str,
    seed: int,
) -> str:
    """The feature-based selectors' scores (LogME, H-score, LEEP...) of the target's train labels through
    a fine-tuned source checkpoint, all from one pass over the target's inputs: the checkpoint, the target's
    data, the probe, plus the selectors' own inputs (each one's version, the feature layers, the seed;
    :func:`~jtask2vec.selection.feature_based.score_inputs`)."""
    from jtask2vec.selection.feature_based import score_inputs

    return stage_key(
        "selector-score",
        {
            "checkpoint": checkpoint_key,
            "target": target.data_hash,
            **probe_identity(probe),
            **score_inputs(selectors, layers, seed),
        },
    )
