"""Comparisons with other runs: the suite's ``compare_with`` runs set side by side with this one (equal size
against natural size, a limited target regime against full size), through :func:`compare_runs`."""

from __future__ import annotations

from collections.abc import Mapping

from jtask2vec.report.compare import compare_runs, comparison_findings
from jtask2vec.report.render import Block, Heading, Paragraph
from jtask2vec.results import RunResults

Compared = Mapping[str, RunResults | None]  # suite name -> its finished run in the same runs folder, or None


def missing_run_text(name: str, this: str) -> str:
    return (
        f"No finished run of suite {name} in this runs folder: run jtask2vec run --suite {name}, then "
        f"jtask2vec report --suite {this} to add the comparison."
    )


def comparison_sentences(results: RunResults, compared: Compared) -> list[str]:
    """For the Findings: each comparison's answers, or what to run to get them."""
    this = results.suite.name
    out: list[str] = []
    for name, other in compared.items():
        if other is None:
            out.append(f"Compared with {name}: {missing_run_text(name, this)}")
        else:
            out += comparison_findings(other, results, name, this)
    return out


def comparisons_section(results: RunResults, compared: Compared) -> list[Block]:
    """One section per compared run: the other run as A, this run as B."""
    this = results.suite.name
    blocks: list[Block] = []
    for name, other in compared.items():
        title = f"Compared with {name}"
        if other is None:
            blocks += [Heading(2, title), Paragraph(missing_run_text(name, this))]
        else:
            blocks += compare_runs(other, results, name, this, level=2, title=title)
    return blocks
