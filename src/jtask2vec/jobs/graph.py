"""The job graph of a suite: every expensive artifact as a small job with its store key and dependencies.

A job is a frozen, picklable dataclass naming *what* to compute (task, seed, the stage's config) and
*where* it goes (``kind``/``key`` of the artifact store, from :mod:`jtask2vec.jobs.keys`). Its work is a
module-level function of explicit inputs (:mod:`jtask2vec.jobs.stages`); the scheduler
(:mod:`jtask2vec.jobs.scheduler`) runs a job as soon as the jobs it ``needs`` are done, on any executor.

Dependencies are exactly the artifacts a job reads: a transfer's target fine-tune needs its source's
fine-tune; an embedding and a selector score need the fine-tuned checkpoint they read; t0 and TextEmb
need only the pretrained probe. Two jobs with the same key are the same job (a source's fine-tune is
its baseline when ``transfer_training`` equals ``training``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from jtask2vec.config import FisherConfig, Suite, TrainingConfig
from jtask2vec.jobs import keys
from jtask2vec.tasks.base import Task

JobId = tuple[str, str]  # (store kind, key)

# Progress groups, in display order.
STAGES = ("fine-tune", "transfer", "embed", "selectors")


@dataclass(frozen=True)
class FinetuneJob:
    """``task`` fine-tuned with ``training`` from the pretrained probe, or (``init_from`` = a source
    checkpoint's key) the target fine-tune of a transfer from ``source``."""

    kind: ClassVar[str] = "finetune"
    task: str
    seed: int
    training: TrainingConfig
    key: str
    init_from: str | None = None
    source: str | None = None
    role: str = "source"  # which version of the task: "source" or "target" (a suite's target regime)

    @property
    def stage(self) -> str:
        return "transfer" if self.init_from else "fine-tune"

    @property
    def needs(self) -> tuple[JobId, ...]:
        return (("finetune", self.init_from),) if self.init_from else ()

    @property
    def task_names(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def label(self) -> str:
        if self.init_from:
            return f"transfer {self.source} -> {self.task} (seed {self.seed})"
        return f"fine-tune {self.task} (seed {self.seed})"


@dataclass(frozen=True)
class EmbeddingJob:
    """The TASK2VEC embedding of ``task``'s fine-tuned checkpoint (``role`` "target": a target's own
    fine-tune in the suite's target regime, on its target-regime examples)."""

    kind: ClassVar[str] = "embedding"
    task: str
    seed: int
    checkpoint: str
    fisher: FisherConfig
    key: str
    role: str = "source"

    stage: ClassVar[str] = "embed"

    @property
    def needs(self) -> tuple[JobId, ...]:
        return (("finetune", self.checkpoint),)

    @property
    def task_names(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def label(self) -> str:
        return f"embed {self.task} (seed {self.seed})"


@dataclass(frozen=True)
class TrivialEmbeddingJob:
    """``t0`` of the asymmetric distance: the pretrained probe's Fisher on a sample of ``tasks``' texts."""

    kind: ClassVar[str] = "trivial-embedding"
    seed: int
    tasks: tuple[str, ...]
    fisher: FisherConfig
    key: str

    stage: ClassVar[str] = "embed"
    needs: ClassVar[tuple[JobId, ...]] = ()

    @property
    def task_names(self) -> tuple[str, ...]:
        return self.tasks

    @property
    def label(self) -> str:
        return f"trivial embedding t0 (seed {self.seed})"


@dataclass(frozen=True)
class TextEmbJob:
    """TextEmb: the pretrained probe's mean text vector of ``task``'s train split."""

    kind: ClassVar[str] = "textemb"
    task: str
    key: str
    role: str = "source"

    stage: ClassVar[str] = "selectors"
    needs: ClassVar[tuple[JobId, ...]] = ()

    @property
    def task_names(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def label(self) -> str:
        return f"textemb {self.task}"


@dataclass(frozen=True)
class SelectorScoreJob:
    """Every feature-based selector's score of ``source -> target`` (LogME, H-score, LEEP...): the target's
    train labels on one pass of its train inputs through ``source``'s fine-tuned checkpoint; one artifact
    (kind ``selector-score``) holds all of them, each with its caveat flag."""

    kind: ClassVar[str] = "selector-score"
    selectors: tuple[str, ...]
    source: str
    target: str
    seed: int
    checkpoint: str
    layers: str
    eval_batch_size: int
    key: str

    stage: ClassVar[str] = "selectors"

    @property
    def needs(self) -> tuple[JobId, ...]:
        return (("finetune", self.checkpoint),)

    @property
    def task_names(self) -> tuple[str, ...]:
        return (self.target,)

    @property
    def label(self) -> str:
        return f"selectors {self.source} -> {self.target} (seed {self.seed})"


Job = FinetuneJob | EmbeddingJob | TrivialEmbeddingJob | TextEmbJob | SelectorScoreJob
J = TypeVar("J", FinetuneJob, EmbeddingJob, TrivialEmbeddingJob, TextEmbJob, SelectorScoreJob)


def job_id(job: Job) -> JobId:
    """The job's identity: the store kind and key of the artifact it publishes."""
    return (job.kind, job.key)


@dataclass(frozen=True)
class CellJobs:
    """The fine-tunes one transfer-grid cell reads: its target's baseline, and for a transfer the source's
    fine-tune and the target fine-tune started from it."""

    baseline: FinetuneJob
    source: FinetuneJob | None = None
    transfer: FinetuneJob | None = None

    @property
    def result(self) -> FinetuneJob:
        """The fine-tune whose scores are the cell's row."""
        return self.transfer if self.transfer is not None else self.baseline


def from_pretrained(
    task: Task, seed: int, training: TrainingConfig, probe: keys.ProbeIdentity, role: str = "source"
) -> FinetuneJob:
    key = keys.finetune_key(task, probe, training, seed)
    return FinetuneJob(task.name, int(seed), training, key, role=role)


def cell_jobs(
    source: str | None,
    target: str,
    seed: int,
    tasks: Mapping[str, Task],
    probe: keys.ProbeIdentity,
    training: TrainingConfig,
    target_training: TrainingConfig,
    target_tasks: Mapping[str, Task] | None = None,
) -> CellJobs:
    """Jobs of grid cell ``(source, target, seed)``; ``source=None`` is the target's baseline. Targets are
    trained on ``target_tasks`` (a suite's target regime; default ``tasks``), sources on ``tasks``."""
    targets = tasks if target_tasks is None else target_tasks
    role = "source" if target_tasks is None else "target"
    baseline = from_pretrained(targets[target], seed, target_training, probe, role)
    if source is None:
        return CellJobs(baseline)
    origin = from_pretrained(tasks[source], seed, training, probe)
    key = keys.finetune_key(targets[target], probe, target_training, seed, origin.key)
    transfer = FinetuneJob(
        target, int(seed), target_training, key, init_from=origin.key, source=source, role=role
    )
    return CellJobs(baseline, origin, transfer)


class JobGraph:
    """Jobs in priority order (the scheduler dispatches ready jobs in this order), deduplicated by id."""

    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self.jobs: dict[JobId, Job] = {}
        for job in jobs:
            self.add(job)

    def add(self, job: J) -> J:
        """Add ``job`` unless a job with its id is there; return the job the graph holds for that id
        (same id = same store kind and key, hence the same job class and inputs)."""
        return self.jobs.setdefault(job_id(job), job)  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.jobs)

    def __iter__(self):
        return iter(self.jobs.values())

    def artifact_keys(self) -> dict[str, set[str]]:
        """Store kind -> the keys of the artifacts the graph's jobs publish."""
        out: dict[str, set[str]] = {}
        for kind, key in self.jobs:
            out.setdefault(kind, set()).add(key)
        return out

    def closure(self, wanted: Iterable[Job]) -> list[Job]:
        """``wanted`` and every job they transitively need, in the graph's priority order."""
        keep: set[JobId] = set()
        stack = [job_id(j) for j in wanted]
        while stack:
            current = stack.pop()
            if current in keep:
                continue
            if current not in self.jobs:
                raise KeyError(f"job {current} is not in the graph")
            keep.add(current)
            stack.extend(self.jobs[current].needs)
        return [job for jid, job in self.jobs.items() if jid in keep]


@dataclass
class SuiteGraph:
    """The job graph of a whole suite, with lookups from (task, seed) to the jobs that produce them."""

    graph: JobGraph
    finetunes: dict[tuple[str, int], FinetuneJob]  # (task, seed) -> fine-tune from the pretrained probe
    cells: dict[tuple[str | None, str, int], CellJobs]  # (source or None, target, seed)
    embeddings: dict[tuple[str, int], EmbeddingJob]
    target_embeddings: dict[tuple[str, int], EmbeddingJob]  # target regime: targets' own vectors
    trivial: dict[int, TrivialEmbeddingJob]
    textemb: dict[str, TextEmbJob]
    target_textemb: dict[str, TextEmbJob]  # target regime: targets' TextEmb on their target examples
    scores: dict[tuple[str, str, int], SelectorScoreJob]  # (source, target, seed)


def trivial_embedding_job(
    suite: Suite, tasks: Mapping[str, Task], probe: keys.ProbeIdentity, seed: int
) -> TrivialEmbeddingJob:
    names = tuple(suite.task_names)
    key = keys.trivial_embedding_key(probe, suite.fisher, seed, [tasks[n] for n in names])
    return TrivialEmbeddingJob(int(seed), names, suite.fisher, key)


def build_suite_graph(
    suite: Suite,
    tasks: Mapping[str, Task],
    probe: keys.ProbeIdentity,
    target_tasks: Mapping[str, Task] | None = None,
) -> SuiteGraph:
    """Every expensive job of ``suite`` (its artifacts per store kind: :meth:`JobGraph.artifact_keys`).

    ``target_tasks``: the targets as trained in the suite's target regime (``None``: no regime, the
    targets are ``tasks``)."""
    from jtask2vec.selection.feature_based import split_feature_selectors

    graph = JobGraph()
    regime = target_tasks is not None
    targets = target_tasks if target_tasks is not None else tasks
    selectors, _ = split_feature_selectors(suite.evaluation.baselines)
    finetunes: dict[tuple[str, int], FinetuneJob] = {}
    for seed in suite.seeds:
        for name in suite.task_names:
            finetunes[(name, seed)] = graph.add(from_pretrained(tasks[name], seed, suite.training, probe))
    cells: dict[tuple[str | None, str, int], CellJobs] = {}
    for seed in suite.seeds:
        for target in suite.target_names:
            cell = cell_jobs(
                None, target, seed, tasks, probe, suite.training, suite.target_training, target_tasks
            )
            cells[(None, target, seed)] = CellJobs(graph.add(cell.baseline))

    def embedding(name: str, seed: int, checkpoint: str, role: str) -> EmbeddingJob:
        key = keys.embedding_key(checkpoint, suite.fisher, probe, seed)
        return graph.add(EmbeddingJob(name, seed, checkpoint, suite.fisher, key, role))

    embeddings = {unit: embedding(*unit, job.key, "source") for unit, job in finetunes.items()}
    target_embeddings: dict[tuple[str, int], EmbeddingJob] = {}
    if regime:
        for seed in suite.seeds:
            for target in suite.target_names:
                checkpoint = cells[(None, target, seed)].baseline.key
                target_embeddings[(target, seed)] = embedding(target, seed, checkpoint, "target")
    trivial: dict[int, TrivialEmbeddingJob] = {}
    if "asymmetric" in suite.evaluation.distances:
        for seed in suite.seeds:
            trivial[seed] = graph.add(trivial_embedding_job(suite, tasks, probe, seed))
    for seed in suite.seeds:
        for target in suite.target_names:
            for source in suite.source_names:
                if source == target:
                    continue
                cell = cell_jobs(
                    source, target, seed, tasks, probe, suite.training, suite.target_training, target_tasks
                )
                assert cell.transfer is not None and cell.source is not None
                cells[(source, target, seed)] = CellJobs(
                    cells[(None, target, seed)].baseline, cell.source, graph.add(cell.transfer)
                )
    textemb: dict[str, TextEmbJob] = {}
    target_textemb: dict[str, TextEmbJob] = {}
    if "textemb" in suite.evaluation.baselines:
        for name in suite.task_names:
            textemb[name] = graph.add(TextEmbJob(name, keys.textemb_key(probe, tasks[name])))
        if regime:
            for name in suite.target_names:
                key = keys.textemb_key(probe, targets[name])
                target_textemb[name] = graph.add(TextEmbJob(name, key, "target"))
    scores: dict[tuple[str, str, int], SelectorScoreJob] = {}
    if selectors:
        layers = suite.evaluation.feature_layers
        for seed in suite.seeds:
            for source in suite.source_names:  # grouped by source: a worker reuses the loaded checkpoint
                checkpoint = finetunes[(source, seed)].key
                for target in suite.target_names:
                    if target == source:
                        continue
                    key = keys.selector_scores_key(
                        selectors, checkpoint, targets[target], probe, layers=layers, seed=seed
                    )
                    job = SelectorScoreJob(
                        tuple(selectors), source, target, seed, checkpoint, layers,
                        suite.training.eval_batch_size, key,
                    )  # fmt: skip
                    scores[(source, target, seed)] = graph.add(job)
    return SuiteGraph(
        graph, finetunes, cells, embeddings, target_embeddings, trivial, textemb, target_textemb, scores
    )
