"""Everything the report needs from one run, computed once: :class:`ReportData` and :func:`collect`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from jtask2vec.report.evaluation_grid import EvaluationGrid, evaluation_grid
from jtask2vec.report.tables import (
    MeanStd,
    best_sources,
    distance_matrix,
    distance_names,
    is_cosine_like,
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

    def label(self, task: str) -> str:
        return task_label(task, self.stand_in)

    def short(self, task: str) -> str:
        return short_label(task, self.stand_in)


def collect(results: RunResults) -> ReportData:
    order = task_order(results)
    names = distance_names(results)
    matrices = {
        d: similarity_matrix(results, d, order) if is_cosine_like(d) else distance_matrix(results, d, order)
        for d in names
    }
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
        evaluation=evaluation_grid(results),
        best=best_sources(results, order),
    )
