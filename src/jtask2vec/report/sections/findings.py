"""Findings: which distance works best (with intervals), whether TASK2VEC groups tasks of a kind, and the
cross-run questions (limited vs full size, equal vs natural size) when the suite names runs to compare with
(``compare_with``; otherwise ``jtask2vec compare`` answers them)."""

from __future__ import annotations

from collections.abc import Sequence

from jtask2vec.report.data import ReportData
from jtask2vec.report.evaluation_grid import lower_is_better
from jtask2vec.report.findings import DistanceFinding, distance_findings
from jtask2vec.report.format import fmt, join_words
from jtask2vec.report.render import Block, Bullets, Heading, Paragraph
from jtask2vec.report.sections.common import not_run

LEAD_WORDS = {
    "better": "its interval lies clear of the runner-up's",
    "overlap": "its interval overlaps the runner-up's, so the lead is within seed noise",
    "n/a": "without intervals the lead cannot be judged against seed noise",
}
RANDOM_WORDS = {
    "better": "better than chance beyond seed noise",
    "overlap": "not distinguishable from chance",
    "worse": "worse than chance beyond seed noise",
    "n/a": "not comparable with chance without intervals",
}


def distance_sentence(f: DistanceFinding) -> str:
    direction = "lower is better" if lower_is_better(f.metric) else "higher is better"
    if len(f.best) > 1:
        text = f"On {f.metric} ({direction}), {join_words(f.best)} tie as the best distance at {f.best_text}"
    else:
        text = f"On {f.metric} ({direction}), the best distance is {f.best[0]} at {f.best_text}"
    if f.runner_up:
        text += f"; next is {f.runner_up} at {f.runner_up_text}: {LEAD_WORDS[f.versus_runner_up]}"
    text += "."
    if f.versus_random:
        text += f" Against chance ({f.random_name} {f.random_text}) it is {RANDOM_WORDS[f.versus_random]}."
    if f.best_overall and not set(f.best_overall) & set(f.best):
        text += f" The best selector overall is {join_words(f.best_overall)}."
    return text


def kinds_sentence(data: ReportData) -> str | None:
    tests = {k: v for k, v in data.kind_tests.items() if v is not None}
    if not tests:
        return None
    alpha = 1.0 - data.confidence
    closer = [k for k, v in tests.items() if v.difference > 0 and v.p_value < alpha]
    others = [k for k in tests if k not in closer]
    text = "Same-kind tasks: "
    if closer:
        text += (
            f"{join_words(closer)} put tasks of the same kind closer than tasks of different kinds "
            f"(permutation p < {fmt(alpha, 2)})"
        )
    if others:
        text += ("; " if closer else "") + f"{join_words(others)} do not, at that level"
    return text + " (table below)."


def findings_section(data: ReportData, comparisons: Sequence[str] = ()) -> list[Block]:
    """``comparisons``: sentences answering the cross-run questions (:func:`comparison_sentences`)."""
    blocks: list[Block] = [Heading(2, "Findings")]
    findings = distance_findings(data.evaluation)
    items = [distance_sentence(f) for f in findings]
    if (kinds := kinds_sentence(data)) is not None:
        items.append(kinds)
    items += comparisons
    if not items:
        return [*blocks, not_run("Findings (no evaluation and no task kinds)")]
    blocks.append(Bullets(items))
    cross_run = (
        "The comparisons with other runs are in full at the end of the report (Compared with ...)."
        if comparisons
        else "Whether similarity predicts transfer better in one regime than another (limited vs full size, "
        "equal vs natural size) compares two runs: name the other suite in the suite's compare_with, or "
        "run jtask2vec compare RUN_DIR_A RUN_DIR_B."
    )
    blocks.append(
        Paragraph(
            "Which distance works best: per headline metric, the best TASK2VEC distance and its interval "
            "(as in the evaluation table), against the next distance and against chance: random:expected, "
            "the exact expectation over uniformly random rankings (else the random selector's single draw "
            "per seed); intervals that do not overlap count as a difference. " + cross_run,
            note=True,
        )
    )
    return blocks
