"""Table 2: test accuracy and macro-F1 of each task's own fine-tune."""

from __future__ import annotations

from jtask2vec.report.data import ReportData
from jtask2vec.report.format import fmt_mean_std
from jtask2vec.report.render import Block, Heading, Paragraph, Table, cells
from jtask2vec.report.sections.common import not_run


def table2_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 2 — test accuracy after fine-tuning")]
    t2 = data.table2
    if t2.empty:
        return [*blocks, not_run("Fine-tuning")]
    rows = [
        cells(
            [
                data.label(t),
                fmt_mean_std(t2.at[t, "accuracy_mean"], t2.at[t, "accuracy_std"]),
                fmt_mean_std(t2.at[t, "macro_f1_mean"], t2.at[t, "macro_f1_std"]),
                str(int(t2.at[t, "n_seeds"])),
            ]
        )
        for t in t2.index
    ]
    blocks.append(Table(["task", "accuracy", "macro-F1", "seeds"], rows))
    blocks.append(
        Paragraph(
            "Each task's probe fine-tuned on its own training split and scored on its test split; "
            "mean ± sample standard deviation over seeds (the mean alone with one seed).",
            note=True,
        )
    )
    return blocks
