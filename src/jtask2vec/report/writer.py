"""`write_report`: the run's tables, figures, verdict and provenance as report.md + report.html + CSVs.

The sections live in :mod:`jtask2vec.report.sections` (one module each); this module assembles them and
writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from jtask2vec.report.data import ReportData, collect
from jtask2vec.report.render import Block, Bullets, Figure, Heading, Paragraph, to_html, to_markdown
from jtask2vec.report.sections.comparison import (
    Compared,
    Comparison,
    comparison_sentences,
    comparisons,
    comparisons_section,
)
from jtask2vec.report.sections.environment import provenance_section
from jtask2vec.report.sections.evaluation import selection_figures, selection_section
from jtask2vec.report.sections.findings import findings_section
from jtask2vec.report.sections.finetune import table2_section
from jtask2vec.report.sections.kinds import kinds_section
from jtask2vec.report.sections.similarity import similarity_figures, similarity_section, table3_section
from jtask2vec.report.sections.tasks import tasks_section
from jtask2vec.report.sections.transfer import table4_section, transfer_figures
from jtask2vec.report.verdict import verdict, verdict_details
from jtask2vec.results import TABLE_COLUMNS, RunResults
from jtask2vec.store.artifacts import atomic_write_bytes, atomic_write_text


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_report` put things (all inside ``folder``)."""

    folder: Path
    markdown: Path
    html: Path
    figures: dict[str, Path] = field(default_factory=dict)  # figure name -> PNG
    tables: dict[str, Path] = field(default_factory=dict)  # table name -> CSV (long tables and pivots)


def write_report(results: RunResults, folder: str | Path, compared: Compared | None = None) -> ReportPaths:
    """Write ``report.md``, a self-contained ``report.html``, ``figures/*.png``, every long table as CSV
    (via :meth:`RunResults.save`) and the pivoted Tables 2-4 as CSV, all atomically, into ``folder``.

    ``compared``: the runs of the suite's ``compare_with`` (:func:`finished_runs`; None where a suite has no
    finished run), each set side by side with this one in its own section and answered in the Findings.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    results.save(folder)
    data = collect(results)
    tables = {name: folder / f"{name}.csv" for name in TABLE_COLUMNS}
    tables.update(_write_pivots(data, folder))
    figs = _make_figures(data)
    figure_paths = {}
    for name, fig in figs.items():
        path = folder / fig.filename
        atomic_write_bytes(path, fig.png)
        figure_paths[name] = path
    _remove_stale(folder, set(figure_paths.values()) | set(tables.values()))
    versus = comparisons(results, data, compared or {})
    blocks = _document(results, data, figs, sorted(p.name for p in tables.values()), versus)
    title = f"jtask2vec report: {results.suite.name}"
    md_path, html_path = folder / "report.md", folder / "report.html"
    atomic_write_text(md_path, to_markdown(blocks))
    atomic_write_text(html_path, to_html(blocks, title))
    return ReportPaths(folder=folder, markdown=md_path, html=html_path, figures=figure_paths, tables=tables)


PIVOT_NAMES = [
    "table2_accuracy",
    "table4_full",
    *(f"{t}{suffix}" for t in ("table3_cosine", "table4_transfer", "table4_gain") for suffix in ("", "_std")),
]


def _remove_stale(folder: Path, written: set[Path]) -> None:
    """Drop figures and pivot CSVs of an earlier report of this folder that this run no longer produces."""
    stale = [p for p in (folder / "figures").glob("*.png") if p not in written]
    stale += [folder / f"{n}.csv" for n in PIVOT_NAMES if (folder / f"{n}.csv") not in written]
    for path in stale:
        path.unlink(missing_ok=True)


# ---- pivot CSVs --------------------------------------------------------------------------------------


def _write_pivots(data: ReportData, folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}

    def write(name: str, frame: pd.DataFrame) -> None:
        path = folder / f"{name}.csv"
        atomic_write_text(path, frame.to_csv(float_format="%.6g"))
        out[name] = path

    t2 = data.table2.copy()
    t2.insert(0, "stand_in_for", [data.stand_in.get(t, "") for t in t2.index])
    write("table2_accuracy", t2)
    if not data.transfer_long.empty:
        path = folder / "table4_full.csv"
        atomic_write_text(path, data.transfer_long.to_csv(index=False, float_format="%.6g"))
        out["table4_full"] = path
    for name, pivot in (
        ("table3_cosine", data.table3),
        ("table4_transfer", data.table4),
        ("table4_gain", data.gain),
    ):
        if pivot is not None and not pivot.empty:
            write(name, pivot.mean)
            write(f"{name}_std", pivot.std)
    return out


# ---- figures -----------------------------------------------------------------------------------------


def _make_figures(data: ReportData) -> dict[str, Figure]:
    return {**similarity_figures(data), **transfer_figures(data), **selection_figures(data)}


# ---- the document ------------------------------------------------------------------------------------


def _document(
    results: RunResults, data: ReportData, figs: dict[str, Figure], files: list[str], versus: list[Comparison]
) -> list[Block]:
    suite = results.suite
    blocks: list[Block] = [Heading(1, f"jtask2vec report: {suite.name}")]
    if suite.description:
        blocks.append(Paragraph(suite.description))
    blocks += [Heading(2, "Verdict"), Bullets(verdict(results, data))]
    blocks += findings_section(data, comparison_sentences(versus), verdict_details(results, data))
    blocks += tasks_section(results, data)
    blocks += table2_section(data)
    blocks += table3_section(data)
    blocks += similarity_section(data, figs)
    blocks += kinds_section(data)
    blocks += table4_section(data, figs)
    blocks += selection_section(results, data, figs)
    blocks += comparisons_section(versus)
    blocks += provenance_section(results, files)
    return blocks
