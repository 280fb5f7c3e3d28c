"""Per-kind summaries: does TASK2VEC put tasks of the same kind together? Within-kind vs across-kind
distance for every distance, with a permutation test (see :mod:`jtask2vec.report.kinds`)."""

from __future__ import annotations

from jtask2vec.report.data import ReportData
from jtask2vec.report.format import MISSING, fmt, join_words
from jtask2vec.report.kinds import per_kind_distances
from jtask2vec.report.render import Block, Cell, Heading, Paragraph, Table

DISTANCE_DECIMALS = 4


def p_text(p: float, n: int, exact: bool) -> str:
    """``0.012`` (or ``< 0.001``), and how it was obtained."""
    value = "< 0.001" if p < 0.001 else fmt(p)
    return f"{value} ({'exact, ' if exact else ''}{n} relabellings)"


def kinds_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Task kinds: are same-kind tasks close?")]
    if not data.kinds:
        return [
            *blocks,
            Paragraph(
                "Task kinds: not given (the tasks table has no kind column, or it is empty), so there is "
                "no per-kind summary."
            ),
        ]
    by_kind: dict[str, list[str]] = {}
    for task in data.order:
        if task in data.kinds:
            by_kind.setdefault(data.kinds[task], []).append(data.short(task))
    blocks.append(
        Paragraph(
            "Kinds: "
            + "; ".join(f"{k} ({', '.join(v)})" for k, v in by_kind.items())
            + "."
            + (
                f" Without a kind: {join_words([data.short(t) for t in data.order if t not in data.kinds])}."
                if any(t not in data.kinds for t in data.order)
                else ""
            )
        )
    )
    alpha = 1.0 - data.confidence
    rows = []
    for name in data.distances:
        test = data.kind_tests.get(name)
        if test is None:
            rows.append([Cell(name)] + [Cell(MISSING)] * 4)
            continue
        rows.append(
            [
                Cell(name),
                Cell(f"{fmt(test.within_mean, DISTANCE_DECIMALS)} ({test.n_within})"),
                Cell(f"{fmt(test.across_mean, DISTANCE_DECIMALS)} ({test.n_across})"),
                Cell(fmt(test.difference, DISTANCE_DECIMALS, signed=True), bold=test.p_value < alpha),
                Cell(p_text(test.p_value, test.n_permutations, test.exact), bold=test.p_value < alpha),
            ]
        )
    blocks.append(
        Table(
            ["distance", "within kind (pairs)", "across kinds (pairs)", "across − within", "p (permutation)"],
            rows,
            caption="Same-kind vs other-kind distance between task vectors",
        )
    )
    blocks.append(
        Paragraph(
            "Mean distance over ordered pairs of distinct tasks (mean over seeds; for a cosine, 1 − "
            "similarity): between tasks of the same kind, and between tasks of different kinds. A positive "
            "difference means same-kind tasks are closer. p: one-sided permutation test, kinds shuffled "
            "among the tasks (sizes kept); all distinct relabellings when few enough, else 10,000 random "
            f"ones. Bold: p < {fmt(alpha, 2)}. — where a distance has fewer than two kinds or no same-kind "
            "pair.",
            note=True,
        )
    )
    if data.cluster_distance is not None:
        per_kind = per_kind_distances(data.distance(data.cluster_distance), data.kinds)
        rows = [
            [
                Cell(str(r.kind)),
                Cell(str(int(r.n_tasks))),
                Cell(fmt(r.within, DISTANCE_DECIMALS), bold=bool(r.within < r.to_others)),
                Cell(fmt(r.to_others, DISTANCE_DECIMALS)),
            ]
            for r in per_kind.itertuples()
        ]
        blocks.append(
            Table(
                ["kind", "tasks", "within the kind", "to other kinds"],
                rows,
                caption=f"Per kind, on the {data.cluster_distance} distance",
            )
        )
        blocks.append(
            Paragraph(
                "Mean distance between the kind's own tasks (— with a single task) and from its tasks to "
                "every task of another kind, both directions; bold where the kind's own tasks are closer.",
                note=True,
            )
        )
    return blocks
