"""Pieces shared by the report's sections: the "not run" line, stand-in notes, matrix tables, axis labels."""

from __future__ import annotations

import pandas as pd

from jtask2vec.report.data import ReportData
from jtask2vec.report.format import MISSING, fmt, fmt_mean_std, is_missing
from jtask2vec.report.render import Block, Cell, Paragraph, Table
from jtask2vec.report.tables import MeanStd, best_of
from jtask2vec.results import BASELINE_SOURCE

NOT_RUN = "not run"


def not_run(what: str) -> Paragraph:
    return Paragraph(f"{what}: {NOT_RUN} (no rows in this run's results).")


def stand_in_note(data: ReportData, tasks: list[str]) -> list[Block]:
    marked = [t for t in dict.fromkeys(tasks) if t in data.stand_in]
    if not marked:
        return []
    return [
        Paragraph("† stand-in: " + "; ".join(f"{t} for {data.stand_in[t]}" for t in marked) + ".", note=True)
    ]


def matrix_table(
    pivot: MeanStd,
    data: ReportData,
    corner: str,
    decimals: int,
    signed: bool = False,
    best_per_row: bool = False,
) -> Table:
    """A task × task pivot as a table: ``mean ± std`` per cell, or the mean alone when the matrix has more
    than :data:`WIDE_MATRIX` columns (the standard deviations are in the ``*_std.csv`` beside the report)."""
    compact = is_wide(pivot)
    header = [corner] + [
        "no transfer (pretrained)" if str(c) == BASELINE_SOURCE else data.short(str(c))
        for c in pivot.mean.columns
    ]
    rows = []
    for r in pivot.mean.index:
        best = best_of(pivot.mean.loc[r], [BASELINE_SOURCE, r]) if best_per_row else []
        row = [Cell(data.short(str(r)))]
        for c in pivot.mean.columns:
            std = float("nan") if compact else pivot.std.at[r, c]
            text = fmt_mean_std(pivot.mean.at[r, c], std, decimals, signed)
            row.append(Cell(text, bold=str(c) in best))
        rows.append(row)
    return Table(header, rows, matrix=True)


WIDE_MATRIX = 8  # above this many columns, matrix tables show means only


def is_wide(pivot: MeanStd) -> bool:
    return len(pivot.mean.columns) > WIDE_MATRIX


def wide_note(pivot: MeanStd, csv: str) -> str:
    """The sentence that says where the standard deviations of a compact matrix table are."""
    if not is_wide(pivot):
        return ""
    n = len(pivot.mean.columns)
    return f" With {n} columns the table shows means only; the standard deviations are in {csv}."


def short_axes(frame: pd.DataFrame, data: ReportData) -> pd.DataFrame:
    out = frame.copy()
    out.index = [data.short(str(t)) for t in frame.index]
    out.columns = ["no transfer" if str(c) == BASELINE_SOURCE else data.short(str(c)) for c in frame.columns]
    return out


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def count(value: float) -> str:
    """A mean count: ``4`` when whole, else one decimal."""
    if is_missing(value):
        return MISSING
    return str(int(value)) if float(value).is_integer() else fmt(value, 1)


def max_int(frame: pd.DataFrame, col: str) -> str:
    if col not in frame.columns:
        return MISSING
    values = pd.to_numeric(frame[col], errors="coerce").dropna()
    return str(int(values.max())) if len(values) else MISSING
