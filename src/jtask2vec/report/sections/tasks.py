"""Table 1: the tasks, their sizes, label counts, truncation, data hashes, sources and licences (the long
source and licence texts as numbered footnotes under the table, so that it fits the page width)."""

from __future__ import annotations

import pandas as pd

from jtask2vec.report.data import ReportData
from jtask2vec.report.format import MISSING, is_missing, readable
from jtask2vec.report.render import Block, Cell, Heading, Paragraph, Table, cells
from jtask2vec.report.sections.common import NOT_RUN
from jtask2vec.results import RunResults


def tasks_section(results: RunResults, data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Tasks and data")]
    tasks = results.tasks
    if tasks.empty:
        blocks.append(
            Paragraph("Task table: " + NOT_RUN + "; the suite names " + ", ".join(data.order) + ".")
        )
        return blocks
    by_name = {str(row["task"]): row for _, row in tasks.iterrows()}
    names = [t for t in data.order if t in by_name]

    def val(row: pd.Series, key: str) -> str:
        v = row.get(key)
        if is_missing(v) or v == "":
            return MISSING
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return readable(v)

    rows = []
    notes: dict[str, int] = {}  # "source — licence" -> footnote number, shared by tasks with the same text
    for t in names:
        row = by_name[t]
        origin = f"{val(row, 'source')} — licence: {val(row, 'licence')}"
        mark = notes.setdefault(origin, len(notes) + 1)
        rows.append(
            cells(
                [
                    data.label(t),
                    val(row, "loader"),
                    val(row, "n"),
                    f"{val(row, 'label0')} ({val(row, 'n_label0')}) / "
                    f"{val(row, 'label1')} ({val(row, 'n_label1')})",
                    f"{val(row, 'train')}/{val(row, 'dev')}/{val(row, 'test')}",
                    truncation(row),
                    short_hash(val(row, "data_hash")),
                    f"[{mark}]",
                ]
            )
        )
    header = [
        "task",
        "loader",
        "n",
        "label 0 / label 1 (n)",
        "train/dev/test",
        "truncated",
        "hash",
        "origin",
    ]
    numeric = [False, False, True, False, True, True, False, False]
    if data.kinds:  # the kind column, where the run's tasks table has one
        header.insert(1, "kind")
        numeric.insert(1, False)
        rows = [[r[0], Cell(data.kinds.get(t, MISSING)), *r[1:]] for t, r in zip(names, rows, strict=True)]
    blocks.append(
        Table(
            header,
            rows,
            caption="Table 1 — tasks, their sizes and data hashes",
            numeric=numeric,
        )
    )
    blocks.append(
        Paragraph(
            f"n: examples. Hash: the hash of each task's derived data (first {HASH_DIGITS} hex digits; the "
            "full hash is in tasks.csv). Truncated: the share of texts longer than the probe's max_length "
            "tokens, which the probe sees cut to their first max_length tokens; in brackets the text "
            "lengths in tokens of the probe's tokenizer (median/90th percentile/max). Origin: the source and "
            "licence, below.",
            note=True,
        )
    )
    blocks.append(
        Paragraph("Sources and licences: " + " ".join(f"[{n}] {o}" for o, n in notes.items()), note=True)
    )
    return blocks


def truncation(row: pd.Series) -> str:
    """``12.5% (p50/p90/max)``, or the missing mark for results without these columns."""
    share = row.get("truncated_share")
    if is_missing(share) or share == "":
        return MISSING
    lengths = "/".join(
        MISSING if is_missing(row.get(k)) else str(int(row.get(k)))
        for k in ("tokens_p50", "tokens_p90", "tokens_max")
    )
    return f"{float(share):.1%} ({lengths})"


HASH_DIGITS = 8


def short_hash(text: str) -> str:
    return text[:HASH_DIGITS] + "…" if len(text) > HASH_DIGITS + 1 else text
