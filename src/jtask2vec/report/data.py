"""Everything the report needs from one run, computed once: :class:`ReportData` and :func:`collect`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from jtask2vec.config import Suite
from jtask2vec.evaluation.claims import HeadlineClaims, headline_claims, metric_tables
from jtask2vec.report.clustering import can_cluster, cluster_order
from jtask2vec.report.evaluation_grid import EvaluationGrid, evaluation_grid
from jtask2vec.report.findings import headline_metrics
from jtask2vec.report.kinds import KindSeparation, kind_separation, task_kinds
from jtask2vec.report.rankings import transfer_long
from jtask2vec.report.tables import (
    MeanStd,
    best_sources,
    distance_matrix,
    distance_names,
    is_cosine_like,
    is_symmetric,
    seeds_seen,
    short_label,
    similarity_matrix,
    stand_ins,
    table2_accuracy,
    table4_gain,
    table4_transfer,
    task_label,
    task_order,
)
from jtask2vec.results import RunResults


@dataclass(frozen=True)
class ReportData:
    """All pivots of one run, in the report's task order."""

    order: list[str]
    stand_in: dict[str, str]
    seeds: list[int]
    table2: pd.DataFrame
    table3: MeanStd | None
    distances: list[str]
    matrices: dict[str, MeanStd]  # per distance: similarity (cosine-like) or distance, over seeds
    table4: MeanStd | None
    gain: MeanStd | None
    evaluation: EvaluationGrid | None
    best: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)  # task -> kind, where the tasks table names one
    cluster_distance: str | None = None  # the distance the dendrogram and the clustered heatmaps use
    clustered: list[str] = field(default_factory=list)  # tasks in the dendrogram's leaf order
    transfer_long: pd.DataFrame = field(default_factory=pd.DataFrame)  # Table 4 in full, one row per cell
    confidence: float = 0.95  # of the report's own intervals (the suite's evaluation confidence)
    kind_tests: dict[str, KindSeparation | None] = field(default_factory=dict)  # per distance
    regime_note: str = ""  # with a target regime: how to read the similarity matrices (rows vs columns)
    claims: HeadlineClaims | None = None  # the verdict's claims, tested over targets
    metric_tables: dict[str, pd.DataFrame] = field(
        default_factory=dict
    )  # per headline metric: targets × selectors

    def distance(self, name: str) -> pd.DataFrame:
        """The mean distance matrix of ``name`` (a cosine-like similarity turned back into ``1 − s``)."""
        mean = self.matrices[name].mean
        return 1.0 - mean if is_cosine_like(name) else mean

    def label(self, task: str) -> str:
        return task_label(task, self.stand_in)

    def short(self, task: str) -> str:
        return short_label(task, self.stand_in)


def dendrogram_distance(matrices: dict[str, MeanStd], distances: list[str]) -> str | None:
    """The distance the dendrogram clusters on: pair-normalised cosine if present, else cosine, else the
    first other symmetric distance of the run."""
    for name in ("normalized-cosine", "cosine", *distances):
        if name in matrices and is_symmetric(name) and not matrices[name].empty:
            return name
    return None


def collect(results: RunResults) -> ReportData:
    order = task_order(results)
    names = distance_names(results)
    matrices = {
        d: similarity_matrix(results, d, order) if is_cosine_like(d) else distance_matrix(results, d, order)
        for d in names
    }
    chosen = dendrogram_distance(matrices, names)
    clustered = list(order)
    if chosen is not None:
        mean = matrices[chosen].mean
        dist = 1.0 - mean if is_cosine_like(chosen) else mean
        clustered = cluster_order(dist) if can_cluster(dist) else list(dist.index)
        clustered += [t for t in order if t not in clustered]
    kinds = task_kinds(results)
    kind_tests = {}
    if kinds:
        for name in names:
            mean = matrices[name].mean
            kind_tests[name] = kind_separation(1.0 - mean if is_cosine_like(name) else mean, kinds)
    grid = evaluation_grid(results)
    confidence = results.suite.evaluation.confidence
    tables, found = {}, None
    if grid is not None and not results.per_target.empty:
        present = set(results.per_target["metric"].astype(str))
        metrics = [m for m in headline_metrics(list(grid.mean.columns)) if m in present]
        tables = metric_tables(results.per_target, metrics)
        found = headline_claims(tables, metrics, confidence=confidence)
    return ReportData(
        order=order,
        stand_in=stand_ins(results),
        seeds=seeds_seen(results),
        table2=table2_accuracy(results, order),
        table3=matrices.get("cosine"),
        distances=names,
        matrices=matrices,
        table4=table4_transfer(results, order),
        gain=table4_gain(results, order),
        evaluation=grid,
        best=best_sources(results, order),
        kinds=kinds,
        cluster_distance=chosen,
        clustered=clustered,
        transfer_long=transfer_long(results, order),
        confidence=confidence,
        kind_tests=kind_tests,
        regime_note=regime_note(results.suite),
        claims=found,
        metric_tables=tables,
    )


def regime_note(suite: Suite) -> str:
    """With a target regime the similarity matrices are not symmetric: say what rows and columns are."""
    if not suite.has_target_regime:
        return ""

    def size(n: int | None) -> str:
        return f"at most {n:,} training examples" if n is not None else "the whole training split"

    return (
        f"Rows are the tasks as sources (fine-tuned and embedded on {size(suite.source_regime.train_size)}); "
        f"columns are the tasks as targets, embedded from their fine-tune in the target regime "
        f"({size(suite.target_regime.train_size)}), as the selectors see them. So the matrix is not "
        "symmetric; the dendrogram clusters on its symmetric part (D + Dᵀ) / 2."
    )
