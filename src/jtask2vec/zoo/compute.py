"""The zoo's one door to computation: every fine-tune, embedding and feature the zoo needs goes through here.

Building a zoo runs a suite's stages through :class:`jtask2vec.pipeline.Pipeline`'s public methods;
ranking and verifying a target run the same stage functions of :mod:`jtask2vec.jobs.stages` (fine-tune from
the probe, embed, score LogME, import a checkpoint, transfer from it) with the store keys of
:mod:`jtask2vec.jobs.keys`, so every artifact is shared with (and cached like) a suite run; `--verify` runs
its
fine-tunes as scheduler jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from jtask2vec.config import FisherConfig, Suite, TaskSpec, TrainingConfig
from jtask2vec.errors import ProbeError
from jtask2vec.jobs import keys
from jtask2vec.model.device import resolve_device
from jtask2vec.model.probes import Probe, load_probe
from jtask2vec.model.training import FinetuneResult
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks import Task

if TYPE_CHECKING:
    from jtask2vec.selection.feature_based import SelectorScore

EMBEDDING_KIND = "embedding"
TRIVIAL_KIND = "trivial-embedding"
FINETUNE_KIND = "finetune"
SCORE_KIND = "selector-score"


@dataclass
class SuiteArtifacts:
    """What a zoo copies out of a finished suite run: store folders per (task, seed) and per seed."""

    tasks: dict[str, Task]
    specs: dict[str, TaskSpec]
    probe: Probe
    embeddings: dict[tuple[str, int], Path]
    checkpoints: dict[tuple[str, int], Path]
    checkpoint_keys: dict[tuple[str, int], str]
    trivial: dict[int, Path]


def suite_artifacts(
    suite: Suite, runs_dir: str | Path, data_dir: str | Path | None, *, progress: bool = True
) -> SuiteArtifacts:
    """Fine-tune and embed every task of ``suite`` and compute ``t0`` per seed (all cached in the store)."""
    from jtask2vec.jobs.graph import trivial_embedding_job
    from jtask2vec.pipeline import pipeline_session

    with pipeline_session(suite, runs_dir, data_dir, progress=progress) as pipeline:
        pipeline.finetune()
        pipeline.embeddings()
        for seed in suite.seeds:
            pipeline.trivial_embedding(seed)
        store, probe = pipeline.store, pipeline.probe
        ckpt = {(n, s): pipeline.checkpoint_key(n, s) for n in suite.task_names for s in suite.seeds}
        return SuiteArtifacts(
            tasks=dict(pipeline.tasks),
            specs={spec.name: spec for spec in suite.tasks},
            probe=probe,
            embeddings={u: _open(store, EMBEDDING_KIND, pipeline.embedding_key(*u)) for u in ckpt},
            checkpoints={u: _open(store, FINETUNE_KIND, k) for u, k in ckpt.items()},
            checkpoint_keys=ckpt,
            trivial={
                s: _open(store, TRIVIAL_KIND, trivial_embedding_job(suite, pipeline.tasks, probe, s).key)
                for s in suite.seeds
            },
        )


def _open(store: ArtifactStore, kind: str, key: str) -> Path:
    """The verified folder of an artifact the suite run just made."""
    from jtask2vec.jobs.stages import open_artifact

    return open_artifact(store, kind, key)


def load_zoo_probe(config, fingerprint: str) -> Probe:
    """The zoo's probe, refusing one whose weights differ from those the zoo was built with."""
    probe = load_probe(config)
    if probe.fingerprint != fingerprint:
        raise ProbeError(
            f"probe {config.name!r} loads with weights fingerprint {probe.fingerprint}, "
            f"but the zoo was built with {fingerprint}: the embeddings are not comparable"
        )
    probe.encoder.to(resolve_device("auto"))
    return probe


def embed_target_seeds(
    task: Task, probe: Probe, probe_config, training: TrainingConfig, fisher: FisherConfig,
    seeds: list[int], store: ArtifactStore, *, executor=None,
) -> list[tuple[FinetuneResult, np.ndarray]]:  # fmt: skip
    """The target's fine-tune and task vector for each seed, exactly as a suite run computes them: the
    fine-tunes and embeddings are scheduler jobs through the stages (worker processes of ``workers: auto`` by
    default, so seeds run in parallel), with the same store keys."""
    from jtask2vec.config import ExecutorConfig
    from jtask2vec.jobs.embedding_files import load_embedding
    from jtask2vec.jobs.executors import make_executor
    from jtask2vec.jobs.graph import EmbeddingJob, from_pretrained
    from jtask2vec.jobs.scheduler import run_jobs
    from jtask2vec.jobs.stages import WorkInputs, run_job
    from jtask2vec.jobs.transfer import stored_result

    planned = []
    for seed in seeds:
        finetune = from_pretrained(task, seed, training, probe)
        key = keys.embedding_key(finetune.key, fisher, probe, seed)
        planned.append((finetune, EmbeddingJob(task.name, int(seed), finetune.key, fisher, key)))
    jobs = [job for pair in planned for job in pair]
    device = "auto"
    inputs = WorkInputs({task.name: task}, probe_config, str(store.root), device)
    config = executor or ExecutorConfig()
    run_jobs(jobs, store, lambda n: make_executor(config, run_job, inputs, device, at_most=n))
    return [
        (stored_result(store, ft.key), load_embedding(store.path(EMBEDDING_KIND, emb.key)).vector)
        for ft, emb in planned
    ]


def import_checkpoint(store: ArtifactStore, key: str, folder: Path) -> str:
    """Copy a zoo checkpoint into ``store`` under its original key, so it can serve as ``init_from``."""
    from jtask2vec.jobs.stages import import_checkpoint

    return import_checkpoint(store, key, folder)


def logme_on_checkpoint(
    folder: Path, checkpoint_key: str, task: Task, probe: Probe, store: ArtifactStore, batch_size: int
) -> SelectorScore:
    """LogME of ``task``'s train labels on its train inputs' features through a source checkpoint (a zoo's
    checkpoint folder), through the ``selector-score`` stage as a suite run computes it (last-layer
    features), cached, with its flag (a NaN score flagged ``failed: <reason>`` when LogME cannot score)."""
    from jtask2vec.jobs.graph import SelectorScoreJob
    from jtask2vec.jobs.stages import publish_selector_scores

    key = keys.selector_scores_key(["logme"], checkpoint_key, task, probe, layers="last", seed=0)
    job = SelectorScoreJob(("logme",), "zoo", task.name, 0, checkpoint_key, "last", batch_size, key)
    scores = publish_selector_scores(store, job, task, probe, device="auto", folder=folder)
    return scores["logme"]


def load_target(spec: TaskSpec, data_dir: str | Path | None) -> Task:
    from jtask2vec.tasks.registry import load_task

    return load_task(spec, None if data_dir is None else Path(data_dir))
