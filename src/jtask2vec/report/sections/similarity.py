"""Table 3 (raw cosine similarity), a heatmap per distance and the dendrogram of the tasks."""

from __future__ import annotations

from jtask2vec.report import figures
from jtask2vec.report.clustering import reorder
from jtask2vec.report.data import ReportData
from jtask2vec.report.format import SIM_DECIMALS
from jtask2vec.report.render import Block, Figure, Heading, Paragraph
from jtask2vec.report.sections.common import (
    matrix_table,
    not_run,
    short_axes,
    slug,
    stand_in_note,
    wide_note,
)
from jtask2vec.report.tables import is_cosine_like, is_symmetric


def table3_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 3 — cosine similarity between task vectors")]
    if data.table3 is None or data.table3.empty:
        return [*blocks, not_run("Raw cosine similarity")]
    blocks.append(matrix_table(data.table3, data, "task", SIM_DECIMALS))
    blocks.append(
        Paragraph(
            "Raw cosine similarity cos(a, b) = 1 − cosine distance of the Fisher task vectors, mean ± "
            "standard deviation over seeds, to 4 decimals. The diagonal is 1 by definition where self-pairs "
            "were not stored." + wide_note(data.table3, "table3_cosine_std.csv") + sep(data.regime_note),
            note=True,
        )
    )
    return blocks + stand_in_note(data, list(data.table3.mean.index))


def similarity_section(data: ReportData, figs: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Task similarity for each distance")]
    shown = [figs[k] for k in figs if k.startswith("similarity_")]
    if not shown:
        return [*blocks, not_run("Task distances")]
    blocks += shown
    if "dendrogram" in figs:
        blocks.append(figs["dendrogram"])
    else:
        blocks.append(
            Paragraph("Dendrogram: not drawn (needs a symmetric distance between at least two tasks).")
        )
    return blocks


def sep(note: str) -> str:
    """``note`` as a following sentence of a caption ("" stays "")."""
    return f" {note}" if note else ""


def clustered_note(data: ReportData) -> str:
    """How the heatmaps are ordered, for their captions."""
    if data.cluster_distance is None:
        return "Tasks in suite order."
    return (
        f"Rows and columns in the dendrogram's leaf order (average linkage on the {data.cluster_distance} "
        "distance), so that similar tasks sit together"
        + ("; the bands show each task's kind." if data.kinds else ".")
    )


def kinds_of(data: ReportData, tasks: list[str]) -> list[str | None]:
    return [data.kinds.get(str(t)) for t in tasks]


def kind_order(data: ReportData) -> list[str]:
    """Every kind of the run, in suite order of their first task: fixes each kind's colour."""
    return list(dict.fromkeys(data.kinds[t] for t in data.order if t in data.kinds))


def similarity_figures(data: ReportData) -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    seeds_note = f"mean over {len(data.seeds)} seeds" if len(data.seeds) != 1 else "1 seed"
    order_note = clustered_note(data)
    for name in data.distances:
        pivot = data.matrices[name]
        if pivot.empty:
            continue
        matrix = reorder(pivot.mean, data.clustered)
        bands = {
            "row_kinds": kinds_of(data, list(matrix.index)),
            "col_kinds": kinds_of(data, list(matrix.columns)),
            "kind_order": kind_order(data),
        }
        if is_cosine_like(name):
            png = figures.heatmap(
                short_axes(matrix, data),
                title=f"{name} similarity (1 − {name} distance), {seeds_note}",
                colorbar_label="similarity (colour range: off-diagonal cells)",
                decimals=SIM_DECIMALS,
                scale_from_off_diagonal=True,
                **bands,
            )
            caption = (
                f"Similarity 1 − d for the {name} distance ({seeds_note}); higher = more similar. "
                f"The colour range spans the off-diagonal cells only. {order_note}" + sep(data.regime_note)
            )
        else:
            png = figures.heatmap(
                short_axes(matrix, data),
                title=f"{name} distance (row → column), {seeds_note}",
                colorbar_label="distance (lower = closer)",
                decimals=3,
                cmap="viridis_r",
                scale_from_off_diagonal=True,
                xlabel="to" if not is_symmetric(name) else "",
                ylabel="from" if not is_symmetric(name) else "",
                **bands,
            )
            caption = (
                f"The {name} distance ({seeds_note}); lower = closer, so lighter (yellow) = more similar"
                + ("; asymmetric: read from row to column. " if not is_symmetric(name) else ". ")
                + order_note
                + sep(data.regime_note)
            )
        figs[f"similarity_{name}"] = Figure(f"figures/similarity_{slug(name)}.png", caption, png)
    chosen = data.cluster_distance
    if chosen is not None:
        matrix = data.distance(chosen)
        if figures.can_cluster(matrix):
            png = figures.task_dendrogram(
                short_axes(matrix, data),
                title=f"Tasks clustered on the {chosen} distance ({seeds_note})",
                kinds=kinds_of(data, list(matrix.index)),
                kind_order=kind_order(data),
            )
            figs["dendrogram"] = Figure(
                "figures/dendrogram.png",
                "Average-linkage clustering (scipy.cluster.hierarchy) of the tasks on the "
                f"{chosen} distance, {seeds_note}"
                + ("; task names coloured by kind." if data.kinds else "."),
                png,
            )
    return figs
