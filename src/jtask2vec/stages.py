"""The work of each job: pure module-level functions of explicit inputs that compute-if-absent and publish.

:func:`run_job` is what every executor runs, in this process, in a worker process or on a Ray node:
``run_job(job, inputs)`` with :class:`WorkInputs` (the suite's tasks, the probe, the store root, the
device). Nothing depends on which process runs a job or in which order: each job seeds itself, reads
only the artifacts it ``needs`` and publishes one artifact under its key. Running a job whose artifact
exists does nothing, so a re-run resumes.

The probe is loaded once per process (:func:`cached_probe`, keyed by its config and device).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from jtask2vec.config import ProbeConfig
from jtask2vec.device import resolve_device
from jtask2vec.errors import StoreError
from jtask2vec.jobs import EmbeddingJob, FinetuneJob, Job, SelectorScoreJob, TextEmbJob, TrivialEmbeddingJob
from jtask2vec.probes import Probe, load_probe
from jtask2vec.selection.feature_based import SelectorScore, scores_from_json, scores_to_json
from jtask2vec.store import ArtifactStore, atomic_write_json, read_json
from jtask2vec.tasks.base import Task

RESULT_FILE = "result.json"
VECTOR_FILE = "vector.npy"


@dataclass(frozen=True)
class WorkInputs:
    """What a job's work needs besides the job: shipped once per worker process (or Ray object)."""

    tasks: Mapping[str, Task]
    probe: ProbeConfig | Probe  # a config (loaded once per process) or an already loaded probe
    store_root: str
    device: str = "cpu"
    target_tasks: Mapping[str, Task] | None = None  # the targets in a suite's target regime

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.store_root)

    def task(self, name: str, role: str = "source") -> Task:
        """``name`` as a source, or (``role="target"``) as trained in the suite's target regime."""
        if role == "target" and self.target_tasks is not None:
            return self.target_tasks[name]
        return self.tasks[name]


@lru_cache(maxsize=2)
def cached_probe(config: ProbeConfig, device: str) -> Probe:
    """The probe of ``config`` on ``device``, loaded once per process."""
    probe = load_probe(config)
    probe.encoder.to(resolve_device(device))
    return probe


def probe_of(inputs: WorkInputs) -> Probe:
    if isinstance(inputs.probe, Probe):
        return inputs.probe
    return cached_probe(inputs.probe, inputs.device)


def ensure_artifact(store: ArtifactStore, kind: str, key: str, write: Callable[[Path], None]) -> Path:
    """Compute-if-absent and publish: ``write(folder)`` fills a staging folder that becomes ``(kind, key)``
    (:meth:`ArtifactStore.get_or_create`: verified, claimed, so no two processes compute it twice)."""
    return store.get_or_create(kind, key, write)


def open_artifact(store: ArtifactStore, kind: str, key: str) -> Path:
    """The verified folder of a finished artifact (a job the scheduler has run)."""
    folder = store.open(kind, key)
    if folder is None:
        raise StoreError(
            f"artifact {kind}/{key} is missing or corrupt in the store at {store.root}; run again"
        )
    return folder


# ---- the work of each job kind --------------------------------------------------------------------------
def finetune_work(job: FinetuneJob, inputs: WorkInputs) -> None:
    """:func:`jtask2vec.training.finetune` checks and publishes its own artifact (same key as the job)."""
    from jtask2vec.training import finetune

    probe = probe_of(inputs)
    result = finetune(
        inputs.task(job.task, job.role),
        probe,
        job.training,
        job.seed,
        store=inputs.store,
        init_from=job.init_from,
        source_name=job.source,
        progress=False,
        device=inputs.device,
    )
    if result.checkpoint_key != job.key:
        raise RuntimeError(f"{job.label}: the job's key {job.key} differs from the fine-tune's key")


def embedding_work(job: EmbeddingJob, inputs: WorkInputs) -> None:
    from jtask2vec.checkpoints import load_finetuned
    from jtask2vec.embedding import embed_task

    probe = probe_of(inputs)

    def write(stage: Path) -> None:
        model, tokenizer, _ = load_finetuned(inputs.store, job.checkpoint)
        model.to(resolve_device(inputs.device))
        embedding = embed_task(
            model,
            tokenizer,
            inputs.task(job.task, job.role),
            job.fisher,
            probe.max_length,
            seed=job.seed,
            probe_name=probe.fingerprint,
        )
        embedding.save(stage)

    ensure_artifact(inputs.store, job.kind, job.key, write)


def trivial_embedding_work(job: TrivialEmbeddingJob, inputs: WorkInputs) -> None:
    from jtask2vec.distances import trivial_embedding_for_probe

    probe = probe_of(inputs)

    def write(stage: Path) -> None:
        tasks = [inputs.tasks[name] for name in job.tasks]
        trivial_embedding_for_probe(probe, tasks, job.fisher, seed=job.seed).save(stage)

    ensure_artifact(inputs.store, job.kind, job.key, write)


def textemb_work(job: TextEmbJob, inputs: WorkInputs) -> None:
    from jtask2vec.selection import text_embedding

    probe = probe_of(inputs)

    def write(stage: Path) -> None:
        vector = text_embedding(probe, inputs.task(job.task, job.role).inputs_of("train"))
        np.save(stage / VECTOR_FILE, np.asarray(vector, dtype=np.float64), allow_pickle=False)

    ensure_artifact(inputs.store, job.kind, job.key, write)


@lru_cache(maxsize=1)
def _inference_classifier(store_root: str, checkpoint: str, device: str):
    """A fine-tuned classifier for inference only (kept while a worker scores one source's targets)."""
    from jtask2vec.checkpoints import load_finetuned

    model, tokenizer, _ = load_finetuned(ArtifactStore(store_root), checkpoint)
    return model.to(resolve_device(device)), tokenizer


def selector_score_work(job: SelectorScoreJob, inputs: WorkInputs) -> None:
    """Every feature-based selector of the job from one pass of the target's train inputs through the
    source checkpoint; scores and caveat flags in one artifact."""
    from jtask2vec.selection.feature_based import feature_selector_scores

    def write(stage: Path) -> None:
        probe = probe_of(inputs)
        model, tokenizer = _inference_classifier(inputs.store_root, job.checkpoint, inputs.device)
        task = inputs.task(job.target, "target")
        values = feature_selector_scores(
            model,
            tokenizer,
            task.inputs_of("train"),
            task.labels_of("train"),
            job.selectors,
            max_length=probe.max_length,
            batch_size=job.eval_batch_size,
            layers=job.layers,  # type: ignore[arg-type]
            seed=job.seed,
        )
        atomic_write_json(stage / RESULT_FILE, scores_to_json(values))

    ensure_artifact(inputs.store, job.kind, job.key, write)


WORK: dict[type, Callable[..., None]] = {
    FinetuneJob: finetune_work,
    EmbeddingJob: embedding_work,
    TrivialEmbeddingJob: trivial_embedding_work,
    TextEmbJob: textemb_work,
    SelectorScoreJob: selector_score_work,
}


def run_job(job: Job, inputs: WorkInputs) -> None:
    """Compute ``job``'s artifact unless it is in the store (what every executor runs)."""
    WORK[type(job)](job, inputs)


# ---- reading the artifacts back (main process) ------------------------------------------------------------
def read_vector(store: ArtifactStore, job: EmbeddingJob | TrivialEmbeddingJob) -> np.ndarray:
    from jtask2vec.embedding import TaskEmbedding

    return TaskEmbedding.load(open_artifact(store, job.kind, job.key)).vector


def read_textemb(store: ArtifactStore, job: TextEmbJob) -> np.ndarray:
    return np.load(open_artifact(store, job.kind, job.key) / VECTOR_FILE, allow_pickle=False)


def read_scores(store: ArtifactStore, job: SelectorScoreJob) -> dict[str, SelectorScore]:
    """``{selector: SelectorScore}`` of a selector-score job (its caveat flags included)."""
    return scores_from_json(read_json(open_artifact(store, job.kind, job.key) / RESULT_FILE))
