"""From a suite to a verdict: finetune -> embed -> similarity -> transfer -> evaluate -> report.

Wiring only: the suite becomes a job graph (:mod:`jtask2vec.jobs.graph`: fine-tunes, embeddings, transfer
cells,
selector scores), the scheduler (:mod:`jtask2vec.jobs.scheduler`) runs the missing jobs on the suite's
executor
(in process, worker processes, Ray), and each stage reads its table back from the content-addressed
:class:`~jtask2vec.store.artifacts.ArtifactStore` under ``<runs_dir>/store``, so a re-run reuses what is done
and an
interrupted run resumes. Tables and the report go to ``<runs_dir>/<suite name>/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from jtask2vec.config import Suite
from jtask2vec.errors import ConfigError
from jtask2vec.jobs.environment import run_environment
from jtask2vec.jobs.executors import make_executor, worker_count
from jtask2vec.jobs.graph import Job, SuiteGraph, build_suite_graph, trivial_embedding_job
from jtask2vec.jobs.progress import OverallProgress, overall_progress
from jtask2vec.jobs.scheduler import run_jobs
from jtask2vec.jobs.stages import WorkInputs, cached_probe, read_scores, read_textemb, read_vector, run_job
from jtask2vec.jobs.transfer import stored_result
from jtask2vec.model.device import resolve_device
from jtask2vec.model.probes import Probe
from jtask2vec.results import FLAG_COLUMN, RunResults, tasks_table
from jtask2vec.selection.feature_based import SelectorScore
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks import Task
from jtask2vec.tasks.registry import load_task

TASK2VEC_PREFIX = "task2vec:"


@dataclass
class RunPaths:
    runs_dir: Path

    @property
    def store(self) -> Path:
        return self.runs_dir / "store"

    def run_dir(self, suite: Suite) -> Path:
        return self.runs_dir / suite.name


class Pipeline:
    """The stages of one suite run, wired to the job graph: each stage asks the scheduler for the jobs it
    needs (nothing runs twice: done jobs are in the store), then reads its table back from the store."""

    def __init__(
        self,
        suite: Suite,
        runs_dir: str | Path = "runs",
        data_dir: str | Path | None = None,
        *,
        tracker: OverallProgress | None = None,
    ) -> None:
        self.suite = suite
        self.paths = RunPaths(Path(runs_dir))
        self.data_dir_option = None if data_dir is None else Path(data_dir)
        self.store = ArtifactStore(self.paths.store)
        self.tracker = tracker or OverallProgress(None, None)
        self.device = resolve_device(suite.device)  # a bad device fails here, before any work

    # ---- inputs ------------------------------------------------------------------------------------
    @cached_property
    def tasks(self) -> dict[str, Task]:
        """Every task as a source (the suite's ``source_regime``): stage 1 fine-tunes and embeddings."""
        return {
            name: load_task(self.suite.role_spec(name, "source"), self.data_dir_option)
            for name in self.suite.task_names
        }

    @cached_property
    def target_tasks(self) -> dict[str, Task]:
        """The targets as trained in the suite's ``target_regime`` (the same tasks without one)."""
        if not self.suite.has_target_regime:
            return self.tasks
        return {
            name: load_task(self.suite.role_spec(name, "target"), self.data_dir_option)
            for name in self.suite.target_names
        }

    @cached_property
    def probe(self) -> Probe:
        return cached_probe(self.suite.probe, self.suite.device)

    @cached_property
    def graph(self) -> SuiteGraph:
        regime = self.target_tasks if self.suite.has_target_regime else None
        return build_suite_graph(self.suite, self.tasks, self.probe, regime)

    def tasks_table(self) -> pd.DataFrame:
        return tasks_table(self.suite, self.tasks, self.target_tasks, self.probe)

    def load_classifier(self, task: str, seed: int):
        """The fine-tuned classifier of ``task`` (from the pretrained probe) on the run's device."""
        from jtask2vec.jobs.stages import load_finetuned

        self.finetune_jobs([(task, seed)])
        model, tokenizer, meta = load_finetuned(self.store, self.checkpoint_key(task, seed), self.probe)
        return model.to(self.device), tokenizer, meta

    # ---- running jobs ------------------------------------------------------------------------------
    def execute(self, jobs: Iterable[Job]) -> None:
        """Run ``jobs`` and what they need (missing artifacts only) on the suite's executor."""
        regime = self.target_tasks if self.suite.has_target_regime else None
        inputs = WorkInputs(self.tasks, self.suite.probe, str(self.paths.store), self.suite.device, regime)
        run_jobs(
            self.graph.graph.closure(jobs),
            self.store,
            lambda n: make_executor(self.suite.executor, run_job, inputs, self.suite.device, at_most=n),
            progress=self.tracker,
            failure_log=self.paths.run_dir(self.suite) / "failures.log",
        )

    # ---- stage 1: fine-tune each task from the pretrained probe --------------------------------------
    def finetune(self) -> pd.DataFrame:
        units = [(name, seed) for name in self.suite.task_names for seed in self.suite.seeds]
        return pd.DataFrame(
            [stored_result(self.store, job.key).to_dict() for job in self.finetune_jobs(units)]
        )

    def finetune_jobs(self, units: list[tuple[str, int]]) -> list[Job]:
        jobs = [self.graph.finetunes[unit] for unit in units]
        self.execute(jobs)
        return jobs

    def checkpoint_key(self, task: str, seed: int) -> str:
        return self.graph.finetunes[(task, seed)].key

    # ---- stage 2: TASK2VEC embeddings ----------------------------------------------------------------
    def embedding_key(self, task: str, seed: int) -> str:
        return self.graph.embeddings[(task, seed)].key

    def embeddings(self) -> dict[tuple[str, int], np.ndarray]:
        """Task vector per (task, seed), computed from the fine-tuned checkpoint (cached)."""
        units = [(name, seed) for name in self.suite.task_names for seed in self.suite.seeds]
        self.execute(self.graph.embeddings[unit] for unit in units)
        return {unit: read_vector(self.store, self.graph.embeddings[unit]) for unit in units}

    def target_embeddings(self) -> dict[tuple[str, int], np.ndarray]:
        """With a target regime: each target's vector from its own fine-tune in that regime (its baseline
        checkpoint of the transfer grid), on its target-regime examples. Empty without a target regime."""
        self.execute(self.graph.target_embeddings.values())
        return {unit: read_vector(self.store, job) for unit, job in self.graph.target_embeddings.items()}

    def trivial_embedding(self, seed: int) -> np.ndarray:
        """t0 of the asymmetric distance: see :func:`jtask2vec.fisher.distances.trivial_embedding`."""
        job = self.graph.trivial.get(seed)
        if job is None:  # the suite does not evaluate the asymmetric distance; a command asked for it
            job = self.graph.graph.add(trivial_embedding_job(self.suite, self.tasks, self.probe, seed))
        self.execute([job])
        return read_vector(self.store, job)

    # ---- stage 3: distances between task vectors -----------------------------------------------------
    def distances(self, embeddings: dict[tuple[str, int], np.ndarray] | None = None) -> pd.DataFrame:
        from jtask2vec.fisher.distances import distance_matrix

        embeddings = embeddings if embeddings is not None else self.embeddings()
        names = self.suite.task_names
        as_target = self.target_embeddings()
        rows = []
        for seed in self.suite.seeds:
            vectors = {name: embeddings[(name, seed)] for name in names}
            trivial = None
            if "asymmetric" in self.suite.evaluation.distances:
                trivial = self.trivial_embedding(seed)
            for distance in self.suite.evaluation.distances:
                alpha = self.suite.evaluation.asymmetric_alpha
                matrix = distance_matrix(vectors, distance, trivial=trivial, alpha=alpha)
                for b in [n for n in names if (n, seed) in as_target]:
                    # column b: target b in its regime against every task as a source
                    swapped = {**vectors, b: as_target[(b, seed)]}
                    matrix[b] = distance_matrix(swapped, distance, trivial=trivial, alpha=alpha)[b]
                for a in matrix.index:
                    for b in matrix.columns:
                        rows.append(
                            {
                                "distance": distance,
                                "seed": seed,
                                "a": a,
                                "b": b,
                                "value": float(matrix.loc[a, b]),
                            }
                        )
        return pd.DataFrame(rows)

    # ---- stage 4: the transfer grid ------------------------------------------------------------------
    def transfer(self) -> pd.DataFrame:
        from jtask2vec.jobs.transfer import grid_table, plan_grid

        cells = plan_grid(self.suite.source_names, self.suite.target_names, self.suite.seeds)
        plan = {cell: self.graph.cells[(cell.source, cell.target, cell.seed)] for cell in cells}
        self.execute(jobs.result for jobs in plan.values())
        return grid_table(plan, self.store)

    # ---- stage 5: selectors' scores ------------------------------------------------------------------
    def candidates(self, target: str) -> list[str]:
        return [s for s in self.suite.source_names if s != target]

    def task2vec_scores(self, distances: pd.DataFrame) -> pd.DataFrame:
        """score(source -> target) = -d(source -> target): rows ``a`` = source, columns ``b`` = target."""
        rows = []
        for (distance, seed), block in distances.groupby(["distance", "seed"], sort=False):
            lookup = {(r.a, r.b): r.value for r in block.itertuples()}
            for target in self.suite.target_names:
                for source in self.candidates(target):
                    rows.append(
                        {
                            "selector": f"{TASK2VEC_PREFIX}{distance}",
                            "seed": int(seed),
                            "target": target,
                            "source": source,
                            "score": -float(lookup[(source, target)]),
                        }
                    )
        return pd.DataFrame(rows)

    def baseline_scores(self) -> pd.DataFrame:
        from jtask2vec import selection
        from jtask2vec.selection.feature_based import split_feature_selectors

        wanted = self.suite.evaluation.baselines
        featured, _ = split_feature_selectors(wanted)
        frames = []
        sizes = {name: len(self.tasks[name].indices("train")) for name in self.suite.task_names}
        textemb = self.text_embeddings() if "textemb" in wanted else {}
        feature_scores = self.feature_scores() if featured else {}
        for seed in self.suite.seeds:
            for target in self.suite.target_names:
                sources = self.candidates(target)
                if "random" in wanted:
                    frames.append(
                        selection.scores_table(
                            "random", seed, target, selection.random_scores(target, sources, seed)
                        )
                    )
                if "datasize" in wanted:
                    frames.append(
                        selection.scores_table(
                            "datasize", seed, target, selection.datasize_scores(sizes, target, sources)
                        )
                    )
                if "textemb" in wanted:
                    as_source, as_target = textemb
                    vectors = {**as_source, target: as_target.get(target, as_source[target])}
                    frames.append(
                        selection.scores_table(
                            "textemb", seed, target, selection.textemb_scores(vectors, target, sources)
                        )
                    )
                for name in featured:
                    fits = {source: feature_scores[(source, target, seed)][name] for source in sources}
                    scores = {source: fit.score for source, fit in fits.items()}
                    flags = {source: fit.flag for source, fit in fits.items()}
                    frames.append(selection.scores_table(name, seed, target, scores, flags))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def text_embeddings(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """TextEmb vectors of the pretrained probe per task as a source, and per target in the suite's
        target regime (empty without one) (cached)."""
        self.execute([*self.graph.textemb.values(), *self.graph.target_textemb.values()])
        return (
            {name: read_textemb(self.store, job) for name, job in self.graph.textemb.items()},
            {name: read_textemb(self.store, job) for name, job in self.graph.target_textemb.items()},
        )

    def feature_scores(self) -> dict[tuple[str, str, int], dict[str, SelectorScore]]:
        """``(source, target, seed) -> {selector: SelectorScore}`` of the feature-based selectors (LogME,
        H-score, LEEP...): one job per pair, one pass of the target's train inputs through the source's
        checkpoint; a score's caveat (LogME not converged) is cached with it."""
        self.execute(self.graph.scores.values())
        return {unit: read_scores(self.store, job) for unit, job in self.graph.scores.items()}

    # ---- stage 6: evaluation -------------------------------------------------------------------------
    def evaluate(self, scores: pd.DataFrame, transfer: pd.DataFrame):
        from jtask2vec.evaluation import baseline_tests, evaluate_selectors

        cfg = self.suite.evaluation
        evaluation, per_target = evaluate_selectors(
            scores,
            transfer,
            regret_ks=tuple(cfg.regret_ks),
            bootstrap_samples=cfg.bootstrap_samples,
            confidence=cfg.confidence,
            ci_method=cfg.ci_method,
            resample_targets=cfg.resample_targets,
        )
        tests = baseline_tests(transfer, confidence=cfg.confidence, bootstrap_samples=cfg.bootstrap_samples)
        return evaluation, per_target, tests

    # ---- everything ----------------------------------------------------------------------------------
    def run(self, *, report: bool = True) -> RunResults:
        from jtask2vec.store.maintenance import write_run_artifacts

        with self.store.recording() as used:  # what this run reads from the store, for `store gc`
            results = self._run(report=report)
        write_run_artifacts(self.paths.run_dir(self.suite), used)
        return results

    def _run(self, *, report: bool) -> RunResults:
        started = time.perf_counter()
        self.store.clean_staging()
        self.tracker.stage("loading tasks and probe")
        results = RunResults(suite=self.suite, tasks=self.tasks_table())
        self.tracker.stage("jobs")
        self.execute(self.graph.graph)  # every expensive job of the suite, in one schedule
        results.finetune = self.finetune()
        embeddings = self.embeddings()
        self.tracker.stage("distances")
        results.distances = self.distances(embeddings)
        results.transfer = self.transfer()
        self.tracker.stage("selectors")
        results.scores = pd.concat(
            [self.task2vec_scores(results.distances), self.baseline_scores()], ignore_index=True
        )
        if FLAG_COLUMN in results.scores.columns:
            results.scores[FLAG_COLUMN] = results.scores[FLAG_COLUMN].astype(object).fillna("")
        self.tracker.stage("evaluation")
        results.evaluation, results.per_target, results.baseline_tests = self.evaluate(
            results.scores, results.transfer
        )
        workers = worker_count(self.suite.executor, self.suite.device)
        results.environment = run_environment(time.perf_counter() - started, self.device, self.probe, workers)
        if report:
            self.tracker.stage("report")
            self.write_report(results)
        return results

    def write_report(self, results: RunResults) -> Path:
        from jtask2vec.report import write_report
        from jtask2vec.report.compare import finished_runs

        folder = self.paths.run_dir(self.suite)
        write_report(results, folder, finished_runs(self.suite.compare_with, self.paths.runs_dir))
        return folder / "report.html"


def run_suite(
    suite: Suite,
    runs_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    *,
    progress: bool = True,
    report: bool = True,
) -> RunResults:
    """Run a whole suite (resuming from the store) and write its report; returns the tables."""
    if len(suite.seeds) != len(set(suite.seeds)):
        raise ConfigError(f"suite {suite.name!r}: seeds must be distinct")
    with pipeline_session(suite, runs_dir, data_dir, progress=progress) as pipeline:
        return pipeline.run(report=report)


@contextmanager
def pipeline_session(
    suite: Suite, runs_dir: str | Path = "runs", data_dir: str | Path | None = None, *, progress: bool = True
) -> Iterator[Pipeline]:
    """A :class:`Pipeline` whose stages report to one live progress display while the block runs."""
    with overall_progress(progress) as tracker:
        yield Pipeline(suite, runs_dir, data_dir, tracker=tracker)


def rank_sources_for_target(
    suite: Suite,
    target: str,
    distance: str = "normalized-cosine",
    runs_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    *,
    progress: bool = True,
) -> dict[str, float]:
    """Candidate sources for ``target`` ordered by seed-averaged distance(source -> target), closest first.

    Needs only fine-tuning and embeddings (cached in the store), no transfer runs.
    """
    from jtask2vec.fisher.distances import DISTANCES

    suite.task(target)  # raises a clear error for an unknown target
    if distance not in DISTANCES:
        raise ConfigError(f"unknown distance {distance!r}; choose from {', '.join(DISTANCES)}")
    narrowed = suite.model_copy(
        update={"evaluation": suite.evaluation.model_copy(update={"distances": [distance]})}
    )
    with pipeline_session(narrowed, runs_dir, data_dir, progress=progress) as pipeline:
        table = pipeline.distances()
    block = table[(table["b"] == target) & (table["a"].isin(pipeline.candidates(target)))]
    means = block.groupby("a")["value"].mean().sort_values(kind="stable")
    return {str(k): float(v) for k, v in means.items()}
