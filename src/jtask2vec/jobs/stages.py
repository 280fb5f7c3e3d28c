"""The one persistence boundary: each job's stage maps it to its key, reads its inputs from the store,
calls the pure computation and publishes the result.

The computations (:mod:`jtask2vec.model.training`, :mod:`jtask2vec.fisher.embedding`,
:mod:`jtask2vec.fisher`, the
selectors) never import the store; a key is computed only by :mod:`jtask2vec.jobs.keys` (through the jobs of
:mod:`jtask2vec.jobs.graph`). The zoo's build, rank and verify publish through the same stage functions
(:func:`publish_finetune`, :func:`publish_embedding`, :func:`publish_selector_scores`).

:func:`run_job` is what every executor runs, in this process, in a worker process or on a Ray node:
``run_job(job, inputs)`` with :class:`WorkInputs` (the suite's tasks, the probe, the store root, the
device). Nothing depends on which process runs a job or in which order: each job seeds itself, reads
only the artifacts it ``needs`` and publishes one artifact under its key. Running a job whose artifact
exists does nothing, so a re-run resumes.

The probe is loaded once per process (:func:`cached_probe`, keyed by its config and device).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from jtask2vec.config import ProbeConfig, TrainingConfig
from jtask2vec.errors import ConfigError, ProbeError, StoreError
from jtask2vec.jobs import keys
from jtask2vec.jobs.graph import (
    EmbeddingJob,
    FinetuneJob,
    Job,
    SelectorScoreJob,
    TextEmbJob,
    TrivialEmbeddingJob,
)
from jtask2vec.model.device import resolve_device
from jtask2vec.model.probes import Probe, load_probe
from jtask2vec.model.training import FinetuneResult
from jtask2vec.selection.feature_based import SelectorScore, scores_from_json, scores_to_json
from jtask2vec.store.artifacts import ArtifactStore, atomic_write_json, read_json
from jtask2vec.tasks.base import Task

RESULT_FILE = "result.json"
VECTOR_FILE = "vector.npy"
FINETUNE_KIND = "finetune"  # store kind of fine-tuned classifiers (and their result.json)


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


# ---- fine-tunes -----------------------------------------------------------------------------------------
def load_result(store: ArtifactStore, key: str) -> FinetuneResult | None:
    """The stored result of fine-tune ``key``, or None when it has not finished."""
    folder = store.open(FINETUNE_KIND, key)  # checked; a corrupt one is quarantined and reads as absent
    if folder is None:
        return None
    return FinetuneResult.from_dict(read_json(folder / RESULT_FILE))


def finetuned_folder(store: ArtifactStore, key: str) -> Path:
    """The checkpoint folder of the fine-tuned classifier stored under ``key``."""
    folder = store.open(FINETUNE_KIND, key)  # checked; a corrupt one is quarantined and reads as absent
    if folder is None:
        raise ProbeError(f"no fine-tuned classifier {key!r} in the store at {store.root}")
    return folder


def load_finetuned(store: ArtifactStore, key: str, probe: Probe | None = None):
    """``(model, tokenizer, meta)`` of the store's checkpoint ``key`` (``FinetuneResult.checkpoint_key``);
    a delta checkpoint (frozen word embeddings) loads on top of ``probe``."""
    from jtask2vec.jobs.checkpoints import load_classifier

    folder = finetuned_folder(store, key)
    if not (folder / "config.json").is_file():
        raise ProbeError(
            f"fine-tune {key} kept only its metrics (a transfer's target fine-tune): no classifier is "
            "stored; set training.keep_transfer_checkpoints to keep them"
        )
    return load_classifier(folder, base=probe)


def import_checkpoint(store: ArtifactStore, key: str, folder: Path) -> str:
    """Publish a copied checkpoint folder (a zoo's) under its original key ``key``, so that it can serve as
    a transfer's ``init_from``; its ``MANIFEST.json`` is the importing store's own."""
    import shutil

    def write(stage: Path) -> None:
        shutil.copytree(folder, stage, dirs_exist_ok=True, ignore=shutil.ignore_patterns("MANIFEST.json"))

    ensure_artifact(store, FINETUNE_KIND, key, write)
    return key


def publish_finetune(
    store: ArtifactStore,
    job: FinetuneJob,
    task: Task,
    probe: Probe,
    *,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> FinetuneResult:
    """The ``finetune`` stage: the stored result of ``job``, else load its start state (a transfer's source
    checkpoint), run :func:`jtask2vec.model.training.finetune` and publish classifier + result under
    ``job.key``.

    What is stored: the result, and the classifier where something may read it: only what fine-tuning
    changed (frozen word embeddings are left out and come back from the probe, whose fingerprint the
    checkpoint records), and none for a transfer's target fine-tune unless
    ``training.keep_transfer_checkpoints``."""
    from jtask2vec.jobs.checkpoints import save_classifier
    from jtask2vec.model.training import finetune as train

    def write(stage: Path) -> None:
        start, source_name = None, job.source
        if job.init_from is not None:
            model, _, _ = load_finetuned(store, job.init_from, probe)
            start = model.encoder
            if source_name is None:
                source = load_result(store, job.init_from)
                source_name = source.task if source is not None else job.init_from
        out = train(
            task, probe, job.training, job.seed, start=start, source_name=source_name, progress=progress,
            device=device,
        )  # fmt: skip
        meta = {
            "task": task.name,
            "label_names": list(task.label_names),
            "data_hash": task.data_hash,
            "probe": probe.name,
            "probe_fingerprint": probe.fingerprint,
            "max_length": probe.max_length,
            "seed": int(job.seed),
            "init_from": job.init_from,
            "source": source_name,
            "training": job.training.model_dump(mode="json"),
        }
        if job.init_from is None or job.training.keep_transfer_checkpoints:
            base = probe.encoder.state_dict()  # frozen and still the probe's (a transfer's start may differ)
            frozen = [
                n
                for n, p in out.model.encoder.named_parameters()
                if not p.requires_grad and torch.equal(p.detach().cpu(), base[n].detach().cpu())
            ]
            save_classifier(
                out.model, probe.tokenizer, stage, meta, omit=frozen, base_fingerprint=probe.fingerprint
            )
        else:
            atomic_write_json(stage / "meta.json", {**meta, "classifier": "not kept (metrics only)"})
        atomic_write_json(stage / RESULT_FILE, replace(out.result, checkpoint_key=job.key).to_dict())

    cached = load_result(store, job.key)
    if cached is not None:
        return cached
    ensure_artifact(store, FINETUNE_KIND, job.key, write)
    result = load_result(store, job.key)
    assert result is not None
    return result


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
    """One fine-tune through the ``finetune`` stage (the API's door to fine-tuning outside a suite).

    - ``init_from``: store key of a fine-tuned source classifier; its encoder is the start, its head is
      dropped. Needs ``store``.
    - With ``store``, the result and the classifier are published atomically under the job's key and a
      later call with the same inputs returns the stored result without training. Without a store, the
      pure computation runs and nothing is written (``checkpoint_key`` is still the key).
    """
    from jtask2vec.model.training import finetune as train

    if init_from is not None and store is None:
        raise ConfigError("a transfer (init_from) needs the artifact store that holds the source checkpoint")
    key = keys.finetune_key(task, probe, training, seed, init_from)
    if store is None:
        out = train(task, probe, training, seed, progress=progress, device=device)
        return replace(out.result, checkpoint_key=key)
    job = FinetuneJob(task.name, int(seed), training, key, init_from=init_from, source=source_name)
    return publish_finetune(store, job, task, probe, progress=progress, device=device)


# ---- the work of each job kind --------------------------------------------------------------------------
def finetune_work(job: FinetuneJob, inputs: WorkInputs) -> None:
    publish_finetune(
        inputs.store, job, inputs.task(job.task, job.role), probe_of(inputs), device=inputs.device
    )


def publish_embedding(
    store: ArtifactStore, job: EmbeddingJob, task: Task, probe: Probe, *, device: str = "cpu"
) -> Path:
    """The ``embedding`` stage: the Fisher embedding of ``job``'s checkpoint on ``task``, published."""
    from jtask2vec.fisher.embedding import embed_task
    from jtask2vec.jobs.embedding_files import save_embedding

    def write(stage: Path) -> None:
        model, tokenizer, _ = load_finetuned(store, job.checkpoint, probe)
        model.to(resolve_device(device))
        embedding = embed_task(
            model, tokenizer, task, job.fisher, probe.max_length, seed=job.seed, probe_name=probe.fingerprint
        )
        embedding.meta["algorithm_version"] = keys.STAGE_VERSIONS["embedding"]
        save_embedding(embedding, stage)

    return ensure_artifact(store, job.kind, job.key, write)


def embedding_work(job: EmbeddingJob, inputs: WorkInputs) -> None:
    publish_embedding(
        inputs.store, job, inputs.task(job.task, job.role), probe_of(inputs), device=inputs.device
    )


def trivial_embedding_work(job: TrivialEmbeddingJob, inputs: WorkInputs) -> None:
    from jtask2vec.fisher.distances import trivial_embedding_for_probe
    from jtask2vec.jobs.embedding_files import save_embedding

    probe = probe_of(inputs)

    def write(stage: Path) -> None:
        tasks = [inputs.tasks[name] for name in job.tasks]
        embedding = trivial_embedding_for_probe(probe, tasks, job.fisher, seed=job.seed)
        embedding.meta["algorithm_version"] = keys.STAGE_VERSIONS["embedding"]
        save_embedding(embedding, stage)

    ensure_artifact(inputs.store, job.kind, job.key, write)


def textemb_work(job: TextEmbJob, inputs: WorkInputs) -> None:
    from jtask2vec.selection import text_embedding

    probe = probe_of(inputs)

    def write(stage: Path) -> None:
        vector = text_embedding(probe, inputs.task(job.task, job.role).inputs_of("train"))
        np.save(stage / VECTOR_FILE, np.asarray(vector, dtype=np.float64), allow_pickle=False)

    ensure_artifact(inputs.store, job.kind, job.key, write)


_INFERENCE: dict[tuple, tuple] = {}


def _inference_classifier(
    store: ArtifactStore, checkpoint: str, device: str, folder: Path | None, probe: Probe
):
    """A fine-tuned classifier for inference only (kept while a worker scores one source's targets): the
    store's checkpoint, or the checkpoint folder ``folder`` (a zoo's)."""
    from jtask2vec.jobs.checkpoints import load_classifier

    key = (str(store.root), checkpoint, device, folder, probe.fingerprint)
    if key not in _INFERENCE:
        path = folder if folder is not None else finetuned_folder(store, checkpoint)
        model, tokenizer, _ = load_classifier(path, base=probe)
        _INFERENCE.clear()
        _INFERENCE[key] = (model.to(resolve_device(device)), tokenizer)
    return _INFERENCE[key]


def publish_selector_scores(
    store: ArtifactStore,
    job: SelectorScoreJob,
    target: Task,
    probe: Probe,
    *,
    device: str = "cpu",
    folder: Path | None = None,
) -> dict[str, SelectorScore]:
    """The ``selector-score`` stage: every feature-based selector of ``job`` from one pass of the target's
    train inputs through the source checkpoint (the store's, or the checkpoint folder ``folder``); scores
    and caveat flags in one artifact."""
    from jtask2vec.selection.feature_based import feature_selector_scores

    def write(stage: Path) -> None:
        model, tokenizer = _inference_classifier(store, job.checkpoint, device, folder, probe)
        values = feature_selector_scores(
            model,
            tokenizer,
            target.inputs_of("train"),
            target.labels_of("train"),
            job.selectors,
            max_length=probe.max_length,
            batch_size=job.eval_batch_size,
            layers=job.layers,  # type: ignore[arg-type]
            seed=job.seed,
        )
        atomic_write_json(stage / RESULT_FILE, scores_to_json(values))

    ensure_artifact(store, job.kind, job.key, write)
    return read_scores(store, job)


def selector_score_work(job: SelectorScoreJob, inputs: WorkInputs) -> None:
    target = inputs.task(job.target, "target")
    publish_selector_scores(inputs.store, job, target, probe_of(inputs), device=inputs.device)


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
    from jtask2vec.jobs.embedding_files import load_embedding

    return load_embedding(open_artifact(store, job.kind, job.key)).vector


def read_textemb(store: ArtifactStore, job: TextEmbJob) -> np.ndarray:
    return np.load(open_artifact(store, job.kind, job.key) / VECTOR_FILE, allow_pickle=False)


def read_scores(store: ArtifactStore, job: SelectorScoreJob) -> dict[str, SelectorScore]:
    """``{selector: SelectorScore}`` of a selector-score job (its caveat flags included)."""
    return scores_from_json(read_json(open_artifact(store, job.kind, job.key) / RESULT_FILE))
