"""From a suite to a verdict: finetune -> embed -> similarity -> transfer -> evaluate -> report.

Wiring only: the suite becomes a job graph (:mod:`jtask2vec.jobs`: fine-tunes, embeddings, transfer cells,
selector scores), the scheduler (:mod:`jtask2vec.scheduler`) runs the missing jobs on the suite's executor
(in process, worker processes, Ray), and each stage reads its table back from the content-addressed
:class:`~jtask2vec.store.ArtifactStore` under ``<runs_dir>/store``, so a re-run reuses what is done and an
interrupted run resumes. Tables and the report go to ``<runs_dir>/<suite name>/``.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from jtask2vec.config import Suite
from jtask2vec.device import resolve_device
from jtask2vec.errors import ConfigError
from jtask2vec.executors import make_executor
from jtask2vec.jobs import Job, SuiteGraph, build_suite_graph, trivial_embedding_job
from jtask2vec.probes import Probe
from jtask2vec.progress import OverallProgress, overall_progress
from jtask2vec.results import RunResults, tasks_table
from jtask2vec.scheduler import run_jobs
from jtask2vec.stages import WorkInputs, cached_probe, read_score, read_textemb, read_vector, run_job
from jtask2vec.store import ArtifactStore
from jtask2vec.tasks import Task
from jtask2vec.tasks.registry import load_task
from jtask2vec.transfer import stored_result

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
        resolve_device(suite.device)  # a bad device fails here, before any work

    # ---- inputs ------------------------------------------------------------------------------------
    @cached_property
    def tasks(self) -> dict[str, Task]:
        return {spec.name: load_task(spec, self.data_dir_option) for spec in self.suite.tasks}

    @cached_property
    def probe(self) -> Probe:
        return cached_probe(self.suite.probe, self.suite.device)

    @cached_property
    def graph(self) -> SuiteGraph:
        return build_suite_graph(self.suite, self.tasks, self.probe)

    def tasks_table(self) -> pd.DataFrame:
        return tasks_table(self.suite, self.tasks)

    # ---- running jobs ------------------------------------------------------------------------------
    def execute(self, jobs: Iterable[Job]) -> None:
        """Run ``jobs`` and what they need (missing artifacts only) on the suite's executor."""
        inputs = WorkInputs(self.tasks, self.suite.probe, str(self.paths.store), self.suite.device)
        run_jobs(
            self.graph.graph.closure(jobs),
            self.store,
            lambda n: make_executor(self.suite.executor, run_job, inputs, self.suite.device, at_most=n),
            progress=self.tracker,
            failure_log=self.paths.run_dir(self.suite) / "failures.log",
        )

    # ---- stage 1: fine-tune each task from the pretrained probe --------------------------------------
    def finetune(self) -> pd.DataFrame:
        jobs = [
            self.graph.finetunes[(name, seed)] for name in self.suite.task_names for seed in self.suite.seeds
        ]
        self.execute(jobs)
        return pd.DataFrame([stored_result(self.store, job.key).to_dict() for job in jobs])

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

    def trivial_embedding(self, seed: int) -> np.ndarray:
        """t0 of the asymmetric distance: see :func:`jtask2vec.distances.trivial_embedding`."""
        job = self.graph.trivial.get(seed)
        if job is None:  # the suite does not evaluate the asymmetric distance; a command asked for it
            job = self.graph.graph.add(trivial_embedding_job(self.suite, self.tasks, self.probe, seed))
        self.execute([job])
        return read_vector(self.store, job)

    # ---- stage 3: distances between task vectors -----------------------------------------------------
    def distances(self, embeddings: dict[tuple[str, int], np.ndarray] | None = None) -> pd.DataFrame:
        from jtask2vec.distances import distance_matrix

        embeddings = embeddings if embeddings is not None else self.embeddings()
        names = self.suite.task_names
        rows = []
        for seed in self.suite.seeds:
            vectors = {name: embeddings[(name, seed)] for name in names}
            trivial = None
            if "asymmetric" in self.suite.evaluation.distances:
                trivial = self.trivial_embedding(seed)
            for distance in self.suite.evaluation.distances:
                matrix = distance_matrix(
                    vectors, distance, trivial=trivial, alpha=self.suite.evaluation.asymmetric_alpha
                )
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
        from jtask2vec.transfer import grid_table, plan_grid

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

        wanted = self.suite.evaluation.baselines
        frames = []
        sizes = {name: len(self.tasks[name].indices("train")) for name in self.suite.task_names}
        textemb = self.text_embeddings() if "textemb" in wanted else {}
        logme = self.logme_scores() if "logme" in wanted else {}
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
                    frames.append(
                        selection.scores_table(
                            "textemb", seed, target, selection.textemb_scores(textemb, target, sources)
                        )
                    )
                if "logme" in wanted:
                    scores = {source: logme[(seed, source, target)] for source in sources}
                    frames.append(selection.scores_table("logme", seed, target, scores))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def text_embeddings(self) -> dict[str, np.ndarray]:
        """TextEmb vectors of the pretrained probe per task (cached)."""
        self.execute(self.graph.textemb.values())
        return {name: read_textemb(self.store, job) for name, job in self.graph.textemb.items()}

    def logme_scores(self) -> dict[tuple[int, str, str], float]:
        """``(seed, source, target) ->`` LogME of the target's train labels on features from the
        source-fine-tuned encoder (one job per pair)."""
        jobs = {k: job for k, job in self.graph.scores.items() if k[0] == "logme"}
        self.execute(jobs.values())
        return {
            (seed, source, target): read_score(self.store, job)
            for (_, source, target, seed), job in jobs.items()
        }

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
        self.tracker.stage("evaluation")
        results.evaluation, results.per_target, results.baseline_tests = self.evaluate(
            results.scores, results.transfer
        )
        results.environment = environment(wall_seconds=time.perf_counter() - started, probe=self.probe)
        if report:
            self.tracker.stage("report")
            self.write_report(results)
        return results

    def write_report(self, results: RunResults) -> Path:
        from jtask2vec.report import write_report

        folder = self.paths.run_dir(self.suite)
        write_report(results, folder)
        return folder / "report.html"


def environment(wall_seconds: float, probe: Probe | None = None) -> dict[str, object]:
    import torch

    versions = {}
    for dist in (
        "jtask2vec",
        "torch",
        "transformers",
        "tokenizers",
        "numpy",
        "scipy",
        "scikit-learn",
        "pandas",
        "unidic-lite-imitator-transformers",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    env: dict[str, object] = {
        "wall_seconds": round(wall_seconds, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "device": "cpu",
        "versions": versions,
    }
    if probe is not None:
        env["probe"] = probe.name
        env["probe_fingerprint"] = probe.fingerprint
        env["probe_parameters"] = int(sum(p.numel() for p in probe.encoder.parameters()))
    return env


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
    from jtask2vec.distances import DISTANCES

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
