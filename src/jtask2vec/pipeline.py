"""From a suite to a verdict: finetune -> embed -> similarity -> transfer -> evaluate -> report.

Each stage is a method of :class:`Pipeline` over explicit inputs; every expensive artifact (fine-tuned
checkpoint, embedding, text embedding, selector score, transfer cell) is cached in the content-addressed
:class:`~jtask2vec.store.ArtifactStore` under ``<runs_dir>/store``, so a re-run reuses what is done and an
interrupted run resumes. Tables and the report go to ``<runs_dir>/<suite name>/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from jtask2vec import keys
from jtask2vec.config import Suite
from jtask2vec.device import resolve_device
from jtask2vec.environment import describe_environment
from jtask2vec.errors import ConfigError
from jtask2vec.probes import Probe, load_probe
from jtask2vec.progress import OverallProgress, overall_progress
from jtask2vec.results import BASELINE_SOURCE, FLAG_COLUMN, RunResults
from jtask2vec.selection.feature_based import SelectorScore
from jtask2vec.store import ArtifactStore, atomic_write_json, read_json
from jtask2vec.tasks import Task
from jtask2vec.tasks.lengths import token_length_stats
from jtask2vec.tasks.registry import load_task

TASK2VEC_PREFIX = "task2vec:"
SCORE_KIND = "selector-score"  # store kind of the feature-based selectors' scores


@dataclass
class RunPaths:
    runs_dir: Path

    @property
    def store(self) -> Path:
        return self.runs_dir / "store"

    def run_dir(self, suite: Suite) -> Path:
        return self.runs_dir / suite.name


class Pipeline:
    """The stages of one suite run. Results of each stage are cached; calling a stage twice is cheap."""

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
        self._checkpoints: dict[tuple[str, int], str] = {}
        self.device = resolve_device(suite.device)

    def load_classifier(self, task: str, seed: int):
        """The fine-tuned classifier of ``task`` (from the pretrained probe) on the run's device."""
        from jtask2vec.checkpoints import load_finetuned

        model, tokenizer, meta = load_finetuned(self.store, self.checkpoint_key(task, seed))
        return model.to(self.device), tokenizer, meta

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
        probe = load_probe(self.suite.probe)
        probe.encoder.to(self.device)
        return probe

    def tasks_table(self) -> pd.DataFrame:
        rows = []
        for spec in self.suite.tasks:
            task = self.tasks[spec.name]
            counts = task.class_counts()
            sizes = task.split_sizes()
            lengths = token_length_stats(task, self.probe.tokenizer, self.probe.max_length)
            rows.append(
                {
                    "task": task.name,
                    "loader": spec.loader,
                    "kind": spec.kind or "",
                    "stand_in_for": task.stand_in_for or "",
                    "n": len(task),
                    "n_label0": counts[task.label_names[0]],
                    "n_label1": counts[task.label_names[1]],
                    "label0": task.label_names[0],
                    "label1": task.label_names[1],
                    **sizes,
                    "truncated_share": lengths.truncated_share,
                    "tokens_p50": lengths.p50,
                    "tokens_p90": lengths.p90,
                    "tokens_max": lengths.max,
                    "train_as_target": (
                        len(self.target_tasks[task.name].indices("train"))
                        if task.name in self.target_tasks
                        else None
                    ),
                    "data_hash": task.data_hash,
                    "source": task.provenance.source,
                    "licence": task.provenance.licence,
                }
            )
        return pd.DataFrame(rows)

    # ---- stage 1: fine-tune each task from the pretrained probe --------------------------------------
    def finetune(self) -> pd.DataFrame:
        from jtask2vec.training import finetune

        rows = []
        units = [(name, seed) for name in self.suite.task_names for seed in self.suite.seeds]
        self.tracker.add(len(units))
        for name, seed in units:
            self.tracker.stage(f"fine-tune {name} (seed {seed})")
            result = finetune(
                self.tasks[name],
                self.probe,
                self.suite.training,
                seed,
                store=self.store,
                progress=False,
                device=self.device,
            )
            self._checkpoints[(name, seed)] = result.checkpoint_key
            rows.append(result.to_dict())
            self.tracker.advance()
        return pd.DataFrame(rows)

    def checkpoint_key(self, task: str, seed: int) -> str:
        if (task, seed) not in self._checkpoints:
            self.finetune()
        return self._checkpoints[(task, seed)]

    # ---- stage 2: TASK2VEC embeddings ----------------------------------------------------------------
    def embedding_key(self, task: str, seed: int) -> str:
        return keys.embedding_key(self.checkpoint_key(task, seed), self.suite.fisher, self.probe, seed)

    def embeddings(self) -> dict[tuple[str, int], np.ndarray]:
        """Task vector per (task, seed), computed from the fine-tuned checkpoint (cached)."""
        from jtask2vec.embedding import TaskEmbedding, embed_task

        out: dict[tuple[str, int], np.ndarray] = {}
        units = [(name, seed) for name in self.suite.task_names for seed in self.suite.seeds]
        self.tracker.add(len(units))
        for name, seed in units:
            self.tracker.stage(f"embed {name} (seed {seed})")
            key = self.embedding_key(name, seed)

            def build(stage: Path, name: str = name, seed: int = seed) -> None:
                model, tokenizer, _ = self.load_classifier(name, seed)
                emb = embed_task(
                    model,
                    tokenizer,
                    self.tasks[name],
                    self.suite.fisher,
                    self.probe.max_length,
                    seed=seed,
                    probe_name=self.probe.fingerprint,
                )
                emb.save(stage)

            out[(name, seed)] = TaskEmbedding.load(self.store.get_or_create("embedding", key, build)).vector
            self.tracker.advance()
        return out

    def target_embeddings(self) -> dict[tuple[str, int], np.ndarray]:
        """With a target regime: each target's vector from its own fine-tune in that regime (its baseline
        checkpoint of the transfer grid), on its target-regime examples. Empty without a target regime."""
        from jtask2vec.embedding import TaskEmbedding, embed_task
        from jtask2vec.training import finetune

        out: dict[tuple[str, int], np.ndarray] = {}
        if not self.suite.has_target_regime:
            return out
        for name in self.suite.target_names:
            task = self.target_tasks[name]
            for seed in self.suite.seeds:
                checkpoint = finetune(
                    task, self.probe, self.suite.target_training, seed, store=self.store, progress=False,
                    device=self.device,
                ).checkpoint_key  # fmt: skip
                key = keys.embedding_key(checkpoint, self.suite.fisher, self.probe, seed)

                def build(
                    stage: Path, task: Task = task, checkpoint: str = checkpoint, seed: int = seed
                ) -> None:
                    from jtask2vec.checkpoints import load_finetuned

                    model, tokenizer, _ = load_finetuned(self.store, checkpoint)
                    emb = embed_task(
                        model.to(self.device), tokenizer, task, self.suite.fisher, self.probe.max_length,
                        seed=seed, probe_name=self.probe.fingerprint,
                    )  # fmt: skip
                    emb.save(stage)

                folder = self.store.get_or_create("embedding", key, build)
                out[(name, seed)] = TaskEmbedding.load(folder).vector
        return out

    def trivial_embedding(self, seed: int) -> np.ndarray:
        """t0 of the asymmetric distance: see :func:`jtask2vec.distances.trivial_embedding`."""
        from jtask2vec.distances import trivial_embedding_for_probe
        from jtask2vec.embedding import TaskEmbedding

        key = keys.trivial_embedding_key(self.probe, self.suite.fisher, seed, self.tasks.values())

        def build(stage: Path) -> None:
            emb = trivial_embedding_for_probe(
                self.probe, list(self.tasks.values()), self.suite.fisher, seed=seed
            )
            emb.save(stage)

        return TaskEmbedding.load(self.store.get_or_create("trivial-embedding", key, build)).vector

    # ---- stage 3: distances between task vectors -----------------------------------------------------
    def distances(self, embeddings: dict[tuple[str, int], np.ndarray] | None = None) -> pd.DataFrame:
        from jtask2vec.distances import distance_matrix

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
                matrix = distance_matrix(
                    vectors, distance, trivial=trivial, alpha=self.suite.evaluation.asymmetric_alpha
                )
                for b in [n for n in names if (n, seed) in as_target]:
                    # column b: target b in its regime against every task as a source
                    swapped = distance_matrix(
                        {**vectors, b: as_target[(b, seed)]}, distance, trivial=trivial,
                        alpha=self.suite.evaluation.asymmetric_alpha,
                    )  # fmt: skip
                    matrix[b] = swapped[b]
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
        from jtask2vec.transfer import plan_grid, run_grid

        cells = plan_grid(self.suite.source_names, self.suite.target_names, self.suite.seeds)
        self.tracker.add(len(cells))
        self.tracker.stage(f"transfer grid ({len(cells)} cells)")
        return run_grid(
            cells,
            self.tasks,
            self.probe,
            self.suite.training,
            self.suite.target_training,
            self.store,
            progress=False,
            device=self.device,
            target_tasks=self.target_tasks,
            on_cell_done=lambda cell: self.tracker.advance(description=f"transfer {_cell_name(cell)}"),
        )

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

        featured, wanted = split_feature_selectors(self.suite.evaluation.baselines)
        frames = []
        sizes = {name: len(self.tasks[name].indices("train")) for name in self.suite.task_names}
        textemb = self.text_embeddings() if "textemb" in wanted else {}
        textemb_target = self.text_embeddings(self.target_tasks) if "textemb" in wanted else {}
        feature_scores = self.feature_scores(featured)
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
                            "textemb",
                            seed,
                            target,
                            selection.textemb_scores(
                                {**textemb, target: textemb_target[target]}, target, sources
                            ),
                        )
                    )
                for name in featured:
                    fits = {source: feature_scores[(seed, source, target, name)] for source in sources}
                    scores = {source: fit.score for source, fit in fits.items()}
                    flags = {source: fit.flag for source, fit in fits.items()}
                    frames.append(selection.scores_table(name, seed, target, scores, flags))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def text_embeddings(self, tasks: dict[str, Task] | None = None) -> dict[str, np.ndarray]:
        """TextEmb vectors of the pretrained probe per task (cached); ``tasks``: default the sources."""
        from jtask2vec.selection import text_embedding

        out = {}
        for name, task in (self.tasks if tasks is None else tasks).items():
            key = keys.textemb_key(self.probe, task)

            def build(stage: Path, task: Task = task) -> None:
                vector = text_embedding(self.probe, task.inputs_of("train"))
                np.save(stage / "vector.npy", np.asarray(vector, dtype=np.float64), allow_pickle=False)

            folder = self.store.get_or_create("textemb", key, build)
            out[name] = np.load(folder / "vector.npy", allow_pickle=False)
        return out

    def feature_scores(self, selectors: list[str]) -> dict[tuple[int, str, str, str], SelectorScore]:
        """``(seed, source, target, selector) ->`` score of a feature-based selector (LogME, H-score, LEEP...)
        on the target's train split through the source-fine-tuned classifier. Each score is cached on its
        own (:func:`~jtask2vec.keys.selector_score_key`); the features of a (source, target,
        seed) are extracted once, only if some requested score is missing, and each source checkpoint is
        loaded at most once a seed. A score's caveat (LogME not converged) is cached with it."""
        from jtask2vec.selection.feature_based import feature_selector_scores

        layers = self.suite.evaluation.feature_layers
        out: dict[tuple[int, str, str, str], SelectorScore] = {}
        for seed in self.suite.seeds:
            for source in self.suite.source_names:
                checkpoint = self.checkpoint_key(source, seed) if selectors else ""
                model = None
                for target in self.suite.target_names:
                    if target == source or not selectors:
                        continue
                    task = self.target_tasks[target]
                    score_keys = {
                        name: keys.selector_score_key(
                            name, checkpoint, task, self.probe, layers=layers, seed=seed
                        )
                        for name in selectors
                    }
                    missing = [n for n in selectors if not self.store.exists(SCORE_KIND, score_keys[n])]
                    values: dict[str, SelectorScore] = {}
                    if missing:  # one feature extraction serves every missing selector
                        if model is None:
                            model, tokenizer, _ = self.load_classifier(source, seed)
                        values = feature_selector_scores(
                            model,
                            tokenizer,
                            task.inputs_of("train"),
                            task.labels_of("train"),
                            missing,
                            max_length=self.probe.max_length,
                            batch_size=self.suite.training.eval_batch_size,
                            layers=layers,
                            seed=seed,
                        )
                    for name in selectors:

                        def build(stage: Path, name: str = name, values: dict = values) -> None:
                            atomic_write_json(stage / "result.json", asdict(values[name]))

                        folder = self.store.get_or_create(SCORE_KIND, score_keys[name], build)
                        stored = read_json(folder / "result.json")
                        out[(seed, source, target, name)] = SelectorScore(
                            float(stored["score"]), stored["flag"]
                        )
        return out

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
        from jtask2vec.store_maintenance import write_run_artifacts

        with self.store.recording() as used:  # what this run reads from the store, for `store gc`
            results = self._run(report=report)
        write_run_artifacts(self.paths.run_dir(self.suite), used)
        return results

    def _run(self, *, report: bool) -> RunResults:
        started = time.perf_counter()
        self.store.clean_staging()
        self.tracker.stage("loading tasks and probe")
        results = RunResults(suite=self.suite, tasks=self.tasks_table())
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
            results.scores[FLAG_COLUMN] = results.scores[FLAG_COLUMN].fillna("")
        self.tracker.stage("evaluation")
        results.evaluation, results.per_target, results.baseline_tests = self.evaluate(
            results.scores, results.transfer
        )
        results.environment = environment(time.perf_counter() - started, self.device, self.probe)
        if report:
            self.tracker.stage("report")
            self.write_report(results)
        return results

    def write_report(self, results: RunResults) -> Path:
        from jtask2vec.report import write_report

        folder = self.paths.run_dir(self.suite)
        write_report(results, folder)
        return folder / "report.html"


def _cell_name(cell) -> str:
    source = cell.source if cell.source is not None else BASELINE_SOURCE
    return f"{source} -> {cell.target} (seed {cell.seed})"


def environment(wall_seconds: float, device: torch.device, probe: Probe | None = None) -> dict[str, object]:
    """The run's environment on its resolved ``device`` (:func:`describe_environment`) plus the probe."""
    env = describe_environment(device, wall_seconds=wall_seconds)
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
