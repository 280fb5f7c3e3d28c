"""Table 4 (accuracy after transfer), Table 4b and the heatmap of the gain, and the best source per
target against each selector's pick."""

from __future__ import annotations

from jtask2vec.report import figures
from jtask2vec.report.data import ReportData
from jtask2vec.report.format import ACC_DECIMALS, MISSING, fmt
from jtask2vec.report.render import Block, Cell, Figure, Heading, Paragraph, Table
from jtask2vec.report.sections.common import matrix_table, not_run, short_axes, stand_in_note


def table4_section(data: ReportData, figs: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 4 — accuracy after transfer")]
    if data.table4 is None or data.table4.empty:
        return [*blocks, not_run("Transfer grid")]
    table = matrix_table(data.table4, data, "target \\ source", ACC_DECIMALS, best_per_row=True)
    blocks.append(Table(table.header, table.rows, caption="Table 4 — test accuracy after transfer"))
    blocks.append(
        Paragraph(
            "Rows: target task; columns: source task whose fine-tuned encoder initialises the target "
            "fine-tune; 'no transfer (pretrained)': the pretrained probe fine-tuned on the target. Mean ± "
            "standard deviation over seeds; bold: the best source of each target (self-transfer excluded).",
            note=True,
        )
    )
    if data.gain is not None and not data.gain.empty:
        table = matrix_table(data.gain, data, "target \\ source", ACC_DECIMALS, signed=True)
        blocks.append(
            Table(table.header, table.rows, caption="Table 4b — gain over no transfer (accuracy − baseline)")
        )
    if "transfer_gain" in figs:
        blocks.append(figs["transfer_gain"])
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
        png = figures.heatmap(
            short_axes(data.gain.mean, data),
            title=f"Transfer gain over no transfer, {seeds_note}",
            colorbar_label="accuracy − no-transfer accuracy",
            decimals=ACC_DECIMALS,
            cmap="RdBu",
            center=0.0,
            xlabel="source",
            ylabel="target",
        )
        figs["transfer_gain"] = Figure(
            "figures/transfer_gain.png",
            f"Transfer gain (accuracy after transfer − no-transfer accuracy), rows target, columns source, "
            f"{seeds_note}; blue = gain, red = loss.",
            png,
        )
    return figs
