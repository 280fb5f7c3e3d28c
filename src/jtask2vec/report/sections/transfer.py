"""Table 4 (accuracy after transfer), Table 4b and the heatmap of the gain, and the best source per
target against each selector's pick."""

from __future__ import annotations

from dataclasses import replace

from jtask2vec.report import figures
from jtask2vec.report.clustering import reorder
from jtask2vec.report.data import ReportData
from jtask2vec.report.format import ACC_DECIMALS, MISSING, fmt, fmt_interval, fmt_mean_std
from jtask2vec.report.rankings import TOP_K, top_sources
from jtask2vec.report.render import Block, Cell, Figure, Heading, Paragraph, Table
from jtask2vec.report.sections.common import (
    is_wide,
    matrix_table,
    not_run,
    short_axes,
    stand_in_note,
    wide_note,
)
from jtask2vec.report.sections.similarity import clustered_note, kind_order, kinds_of


def table4_section(data: ReportData, figs: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 4 — accuracy after transfer")]
    if data.table4 is None or data.table4.empty:
        return [*blocks, not_run("Transfer grid")]
    table = matrix_table(data.table4, data, "target \\ source", ACC_DECIMALS, best_per_row=True)
    blocks.append(replace(table, caption="Table 4 — test accuracy after transfer"))
    blocks.append(
        Paragraph(
            "Rows: target task; columns: source task whose fine-tuned encoder initialises the target "
            "fine-tune; 'no transfer (pretrained)': the pretrained probe fine-tuned on the target. Mean ± "
            "standard deviation over seeds; bold: the best source of each target (self-transfer excluded)."
            + wide_note(data.table4, "table4_transfer_std.csv")
            + " Every cell with its gain interval and rank: table4_full.csv.",
            note=True,
        )
    )
    if data.gain is not None and not data.gain.empty:
        table = matrix_table(data.gain, data, "target \\ source", ACC_DECIMALS, signed=True)
        blocks.append(replace(table, caption="Table 4b — gain over no transfer (accuracy − baseline)"))
        if is_wide(data.gain):
            blocks.append(Paragraph(wide_note(data.gain, "table4_gain_std.csv").strip(), note=True))
    if "transfer_gain" in figs:
        blocks.append(figs["transfer_gain"])
    blocks += top_sources_table(data)
    blocks += picks_table(data)
    return blocks + stand_in_note(data, list(data.table4.mean.index) + list(data.table4.mean.columns))


def picks_table(data: ReportData) -> list[Block]:
    best = data.best
    if best.empty:
        return []
    pick_cols = [c for c in best.columns if c.startswith("pick:")]
    header = ["target", "best source (accuracy)", "no transfer"] + [
        c.removeprefix("pick:") for c in pick_cols
    ]
    rows = []
    for _, row in best.iterrows():
        winners = list(row["best_sources"])
        if not winners:
            best_text = MISSING
        elif len(winners) == 1:
            best_text = f"{data.short(winners[0])} ({fmt(row['best_accuracy'])})"
        else:
            names = ", ".join(data.short(w) for w in winners)
            best_text = f"{len(winners)} tied: {names} ({fmt(row['best_accuracy'])})"
        line = [Cell(data.short(row["target"])), Cell(best_text), Cell(fmt(row["baseline_accuracy"]))]
        for c in pick_cols:
            pick = row[c]
            ok = isinstance(pick, str) and pick in winners
            line.append(Cell(data.short(pick) if isinstance(pick, str) else MISSING, bold=ok))
        rows.append(line)
    return [
        Table(
            header,
            rows,
            caption="Best source per target vs. each selector's top-ranked source",
            numeric=[False, False, True] + [False] * len(pick_cols),
        ),
        Paragraph(
            "Best source: highest mean transfer accuracy over seeds (all of them when tied). A selector's "
            "pick: its highest mean score over seeds; bold where it is a best source.",
            note=True,
        ),
    ]


def transfer_figures(data: ReportData) -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    seeds_note = f"mean over {len(data.seeds)} seeds" if len(data.seeds) != 1 else "1 seed"
    if data.gain is not None and not data.gain.empty:
        matrix = reorder(data.gain.mean, data.clustered)
        png = figures.heatmap(
            short_axes(matrix, data),
            title=f"Transfer gain over no transfer, {seeds_note}",
            colorbar_label="accuracy − no-transfer accuracy",
            decimals=ACC_DECIMALS,
            cmap="RdBu",
            center=0.0,
            xlabel="source",
            ylabel="target",
            row_kinds=kinds_of(data, list(matrix.index)),
            col_kinds=kinds_of(data, list(matrix.columns)),
            kind_order=kind_order(data),
        )
        figs["transfer_gain"] = Figure(
            "figures/transfer_gain.png",
            f"Transfer gain (accuracy after transfer − no-transfer accuracy), rows target, columns source, "
            f"{seeds_note}; blue = gain, red = loss. {clustered_note(data)}",
            png,
        )
    return figs


def top_sources_table(data: ReportData) -> list[Block]:
    """The best ``TOP_K`` sources of every target with their accuracy and gain (interval over seeds)."""
    top = top_sources(data.transfer_long)
    if top.empty:
        return []
    rows = []
    for target in dict.fromkeys(top["target"]):
        block = top[top["target"] == target]
        for i, (_, row) in enumerate(block.iterrows()):
            rows.append(
                [
                    Cell(data.short(target) if i == 0 else ""),
                    Cell(data.kinds.get(target, "") if i == 0 else ""),
                    Cell(fmt(row["baseline_accuracy"]) if i == 0 else ""),
                    Cell(str(int(row["rank"]))),
                    Cell(data.short(row["source"])),
                    Cell(data.kinds.get(row["source"], "")),
                    Cell(fmt_mean_std(row["accuracy_mean"], row["accuracy_std"])),
                    Cell(
                        fmt_interval(row["gain_mean"], row["gain_ci_low"], row["gain_ci_high"], signed=True),
                        bold=bool(row["gain_ci_low"] > 0),
                    ),
                ]
            )
    kinds = bool(data.kinds)
    header = ["target", "kind", "no transfer", "rank", "source", "kind", "accuracy", "gain [CI]"]
    numeric = [False, False, True, True, False, False, True, True]
    if not kinds:  # no kind column in this run's tasks table
        rows = [[c for j, c in enumerate(r) if j not in (1, 5)] for r in rows]
        header = [h for j, h in enumerate(header) if j not in (1, 5)]
        numeric = [x for j, x in enumerate(numeric) if j not in (1, 5)]
    return [
        Table(
            header,
            rows,
            caption=f"Top {TOP_K} sources per target (by mean accuracy after transfer)",
            numeric=numeric,
        ),
        Paragraph(
            "Sources ranked by mean test accuracy after transfer over seeds (self-transfer excluded; ties "
            "share a rank, so a target can list more). Accuracy: mean ± standard deviation over seeds. "
            f"Gain: accuracy − no-transfer accuracy paired by seed, with a {fmt(100 * data.confidence, 0)}% "
            "Student-t interval over seeds ([n/a] with one seed); bold where the interval lies above 0. "
            "Every cell of Table 4 with these statistics: table4_full.csv.",
            note=True,
        ),
    ]
