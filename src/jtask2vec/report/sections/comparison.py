"""Comparisons with other runs: the suite's ``compare_with`` runs set side by side with this one (equal size
against natural size, a limited target regime against full size), through :func:`compare_runs`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jtask2vec.report.compare import compare_runs, comparison_findings
from jtask2vec.report.data import ReportData, collect
from jtask2vec.report.render import Block, Heading, Paragraph
from jtask2vec.results import RunResults

Compared = Mapping[str, RunResults | None]  # suite name -> its finished run in the same runs folder, or None


@dataclass(frozen=True)
class Comparison:
    """This run against one ``compare_with`` run (None where that suite has no finished run), each run's
    :class:`ReportData` collected once for the Findings and the section."""

    name: str
    this: RunResults
    this_data: ReportData
    other: RunResults | None
    other_data: ReportData | None


def comparisons(results: RunResults, data: ReportData, compared: Compared) -> list[Comparison]:
    return [
        Comparison(name, results, data, other, None if other is None else collect(other))
        for name, other in compared.items()
    ]


def missing_run_text(name: str, this: str) -> str:
    return (
        f"No finished run of suite {name} in this runs folder: run jtask2vec run --suite {name}, then "
        f"jtask2vec report --suite {this} to add the comparison."
    )


def comparison_sentences(items: list[Comparison]) -> list[str]:
    """For the Findings: each comparison's answers, or what to run to get them."""
    out: list[str] = []
    for c in items:
        this = c.this.suite.name
        if c.other is None or c.other_data is None:
            out.append(f"Compared with {c.name}: {missing_run_text(c.name, this)}")
        else:
            out += comparison_findings(c.other, c.this, c.name, this, (c.other_data, c.this_data))
    return out


def comparisons_section(items: list[Comparison]) -> list[Block]:
    """One section per compared run: the other run as A, this run as B."""
    blocks: list[Block] = []
    for c in items:
        this, title = c.this.suite.name, f"Compared with {c.name}"
        if c.other is None or c.other_data is None:
            blocks += [Heading(2, title), Paragraph(missing_run_text(c.name, this))]
        else:
            data = (c.other_data, c.this_data)
            blocks += compare_runs(c.other, c.this, c.name, this, level=2, title=title, data=data)
    return blocks
