"""Findings: which distance works best (with intervals), whether TASK2VEC groups tasks of a kind, and the
cross-run questions (limited vs full size, equal vs natural size) when the suite names runs to compare with
(``compare_with``; otherwise ``jtask2vec compare`` answers them)."""

from __future__ import annotations

from collections.abc import Sequence

from jtask2vec.evaluation.claims import Claim
from jtask2vec.report.data import ReportData
from jtask2vec.report.evaluation_grid import lower_is_better
from jtask2vec.report.findings import DistanceFinding, distance_findings
from jtask2vec.report.format import fmt, fmt_interval, is_missing, join_words, plural
from jtask2vec.report.render import Block, Bullets, Cell, Heading, Paragraph, Table
from jtask2vec.report.sections.common import not_run

RANDOM_WORDS = {
    "better": "better than chance",
    "not distinguishable": "not distinguishable from chance",
    "worse": "worse than chance",
    "n/a": "not testable against chance (fewer than 2 targets)",
}


def claim_numbers(c: Claim) -> str:
    """``difference +0.250 [0.100, 0.400] over 11 targets, p 0.004 (test)``."""
    p = "p n/a" if is_missing(c.p_value) else f"p {fmt(c.p_value)}"
    if c.p_adjusted != c.p_value and not is_missing(c.p_adjusted):
        p += f", Holm {fmt(c.p_adjusted)}"
    return (
        f"difference {fmt_interval(c.mean_diff, c.ci_low, c.ci_high, signed=True)} over "
        f"{plural(c.n_targets, 'target')}, {p} ({c.test})"
    )


def distance_sentence(f: DistanceFinding) -> str:
    direction = "lower is better" if lower_is_better(f.metric) else "higher is better"
    if len(f.best) > 1:
        text = f"On {f.metric} ({direction}), {join_words(f.best)} tie as the best distance at {f.best_text}"
    else:
        text = f"On {f.metric} ({direction}), the best distance is {f.best[0]} at {f.best_text}"
    if f.runner_up:
        text += f"; next is {f.runner_up} at {f.runner_up_text}"
    text += "."
    if f.chance is not None:
        who = "" if f.chance.subject in f.best else f" (the best over targets: {f.chance.subject})"
        text += (
            f" Against chance ({f.random_name} {f.random_text}), over targets{who}: "
            f"{claim_numbers(f.chance)}: {RANDOM_WORDS.get(f.versus_random, f.versus_random)}."
        )
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


def selector_table(data: ReportData) -> list[Block]:
    """The best distance against every other selector as a table (one row per comparison), significant
    rows in bold; nothing when the run made no such comparison."""
    found = data.claims
    if found is None or not found.selectors:
        return []
    rows = []
    for c in found.selectors:
        verdict = c.verdict if c.called else "not distinguishable"
        rows.append(
            [
                Cell(f"{c.subject} vs {c.other}", bold=c.called),
                Cell(c.metric),
                Cell(fmt_interval(c.mean_diff, c.ci_low, c.ci_high, signed=True)),
                Cell(fmt(c.p_adjusted)),
                Cell(verdict, bold=c.called),
            ]
        )
    first = found.selectors[0]
    caption = (
        f"The best distance against every other selector, paired over {plural(first.n_targets, 'target')} "
        f"({first.test}; Holm over all {len(rows)}). Difference: the mean over targets of the first minus "
        "the second (each target averaged over its seeds), with its Student t interval over targets."
    )
    header = ["comparison", "metric", "difference [interval]", "Holm p", "verdict"]
    return [Table(header, rows, caption=caption, numeric=[False, False, True, True, False])]


def friedman_table(data: ReportData) -> list[Block]:
    """Friedman + Nemenyi per headline metric as a table: p, targets, the three best mean ranks, the critical
    difference and the pairs it separates (bold where any)."""
    found = data.claims
    if found is None or not found.friedman:
        return []
    rows = []
    for metric, f in found.friedman.items():
        ranks = sorted(f.mean_ranks.items(), key=lambda kv: kv[1])
        differ = "; ".join(f"{a} > {b}" for a, b in f.differences[:5])
        if len(f.differences) > 5:
            differ += f"; {len(f.differences) - 5} more"
        rows.append(
            [
                Cell(metric),
                Cell(fmt(f.p_value)),
                Cell(str(f.n_targets)),
                Cell(", ".join(f"{s} {fmt(r, 2)}" for s, r in ranks[:3])),
                Cell(fmt(f.critical_difference, 2)),
                Cell(differ or "none", bold=bool(f.differences)),
            ]
        )
    caption = (
        "All selectors ranked per target: Friedman's test over targets, Nemenyi's critical difference of "
        "mean ranks (rank 1 = best; Demšar 2006); pairs are called only when Friedman's test rejects."
    )
    header = [
        "metric",
        "Friedman p",
        "targets",
        "best mean ranks",
        "critical difference",
        "pairs that differ",
    ]
    return [Table(header, rows, caption=caption, numeric=[False, True, True, False, True, False])]


def findings_section(
    data: ReportData, comparisons: Sequence[str] = (), details: Sequence[str] = ()
) -> list[Block]:
    """``comparisons``: sentences answering the cross-run questions (:func:`comparison_sentences`);
    ``details``: the verdict's details (:func:`jtask2vec.report.verdict.verdict_details`)."""
    blocks: list[Block] = [Heading(2, "Findings")]
    findings = distance_findings(data.evaluation, data.claims)
    items = [distance_sentence(f) for f in findings]
    if (kinds := kinds_sentence(data)) is not None:
        items.append(kinds)
    items += comparisons
    items += details
    if not items:
        return [*blocks, not_run("Findings (no evaluation and no task kinds)")]
    blocks.append(Bullets(items))
    blocks += selector_table(data) + friedman_table(data)
    cross_run = (
        "The comparisons with other runs are in full at the end of the report (Compared with ...)."
        if comparisons
        else "Whether similarity predicts transfer better in one regime than another (limited vs full size, "
        "equal vs natural size) compares two runs: name the other suite in the suite's compare_with, or "
        "run jtask2vec compare RUN_DIR_A RUN_DIR_B."
    )
    blocks.append(
        Paragraph(
            "Which distance works best: per headline metric, the best TASK2VEC distance with its interval "
            "over seeds (as in the evaluation table: seed stability, not evidence), and the test against "
            "chance (random:expected, the exact expectation over uniformly random rankings) over targets: "
            "each target's metric averaged over its seeds, the per-target differences tested by an exact "
            "two-sided sign-flip permutation test (Monte Carlo above 16 targets), max-T over the distances "
            "so that picking the best one is part of the test; the interval of the difference is Student t "
            "over targets. " + cross_run,
            note=True,
        )
    )
    return blocks
