"""`write_report`: the run's tables, figures, verdict and provenance as report.md + report.html + CSVs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jtask2vec.config import dump_suite
from jtask2vec.report import figures
from jtask2vec.report.format import (
    ACC_DECIMALS,
    MISSING,
    SIM_DECIMALS,
    fmt,
    fmt_interval,
    fmt_mean_std,
    fmt_seconds,
    is_missing,
    readable,
)
from jtask2vec.report.render import (
    Block,
    Bullets,
    Cell,
    Code,
    Figure,
    Heading,
    Paragraph,
    Table,
    cells,
    to_html,
    to_markdown,
)
from jtask2vec.report.tables import (
    MeanStd,
    ReportData,
    as_bool,
    best_of,
    ci_method_words,
    collect,
    is_cosine_like,
    is_count,
    is_symmetric,
    lower_is_better,
)
from jtask2vec.report.verdict import verdict
from jtask2vec.results import BASELINE_SOURCE, FLAG_COLUMN, TABLE_COLUMNS, RunResults, flagged_scores
from jtask2vec.store import atomic_write_bytes, atomic_write_text

NOT_RUN = "not run"


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_report` put things (all inside ``folder``)."""

    folder: Path
    markdown: Path
    html: Path
    figures: dict[str, Path] = field(default_factory=dict)  # figure name -> PNG
    tables: dict[str, Path] = field(default_factory=dict)  # table name -> CSV (long tables and pivots)


EVALUATION_CAPTION = (
    "Evaluation of source selectors: mean [CI low, CI high]. top1_hit: top pick is a best source; "
    "top1_tied_hit: top pick statistically tied with the best (paired t over seeds); "
    "regret@k: best − best of top k (accuracy); regret_rel@k: (best − best of top k) / best × 100; "
    "ndcg: min-max gain; ndcg_exp: gain "
    "2^(100·acc) − 1 (Schulte et al. 2024); robs: rank of the best source; tror: true rank of the top pick"
)


def write_report(results: RunResults, folder: str | Path) -> ReportPaths:
    """Write ``report.md``, a self-contained ``report.html``, ``figures/*.png``, every long table as CSV
    (via :meth:`RunResults.save`) and the pivoted Tables 2-4 as CSV, all atomically, into ``folder``.
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
    blocks = _document(results, data, figs, sorted(p.name for p in tables.values()))
    title = f"jtask2vec report: {results.suite.name}"
    md_path, html_path = folder / "report.md", folder / "report.html"
    atomic_write_text(md_path, to_markdown(blocks))
    atomic_write_text(html_path, to_html(blocks, title))
    return ReportPaths(folder=folder, markdown=md_path, html=html_path, figures=figure_paths, tables=tables)


PIVOT_NAMES = [
    "table2_accuracy",
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


def _short_axes(frame: pd.DataFrame, data: ReportData) -> pd.DataFrame:
    out = frame.copy()
    out.index = [data.short(str(t)) for t in frame.index]
    out.columns = ["no transfer" if str(c) == BASELINE_SOURCE else data.short(str(c)) for c in frame.columns]
    return out


def dendrogram_distance(data: ReportData) -> str | None:
    """The distance the dendrogram clusters on: pair-normalised cosine if present, else cosine, else the
    first other symmetric distance of the run."""
    for name in ("normalized-cosine", "cosine", *data.distances):
        if name in data.matrices and is_symmetric(name) and not data.matrices[name].empty:
            return name
    return None


def _make_figures(data: ReportData) -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    seeds_note = f"mean over {len(data.seeds)} seeds" if len(data.seeds) != 1 else "1 seed"
    for name in data.distances:
        pivot = data.matrices[name]
        if pivot.empty:
            continue
        if is_cosine_like(name):
            png = figures.heatmap(
                _short_axes(pivot.mean, data),
                title=f"{name} similarity (1 − {name} distance), {seeds_note}",
                colorbar_label="similarity (colour range: off-diagonal cells)",
                decimals=SIM_DECIMALS,
                scale_from_off_diagonal=True,
            )
            caption = (
                f"Similarity 1 − d for the {name} distance ({seeds_note}); higher = more similar. "
                "The colour range spans the off-diagonal cells only."
            )
        else:
            png = figures.heatmap(
                _short_axes(pivot.mean, data),
                title=f"{name} distance (row → column), {seeds_note}",
                colorbar_label="distance (lower = closer)",
                decimals=3,
                cmap="viridis_r",
                scale_from_off_diagonal=True,
                xlabel="to" if not is_symmetric(name) else "",
                ylabel="from" if not is_symmetric(name) else "",
            )
            caption = f"The {name} distance ({seeds_note}); lower = closer, so darker = more similar" + (
                "; asymmetric: read from row to column." if not is_symmetric(name) else "."
            )
        figs[f"similarity_{name}"] = Figure(f"figures/similarity_{_slug(name)}.png", caption, png)
    chosen = dendrogram_distance(data)
    if chosen is not None:
        dist = data.matrices[chosen]
        matrix = (1.0 - dist.mean) if is_cosine_like(chosen) else dist.mean  # back to a distance
        matrix = _short_axes(matrix, data)
        if figures.can_cluster(matrix):
            png = figures.task_dendrogram(
                matrix, title=f"Tasks clustered on the {chosen} distance ({seeds_note})"
            )
            figs["dendrogram"] = Figure(
                "figures/dendrogram.png",
                "Average-linkage clustering (scipy.cluster.hierarchy) of the tasks on the "
                f"{chosen} distance, {seeds_note}.",
                png,
            )
    if data.gain is not None and not data.gain.empty:
        png = figures.heatmap(
            _short_axes(data.gain.mean, data),
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


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


# ---- the document ------------------------------------------------------------------------------------


def _document(
    results: RunResults, data: ReportData, figs: dict[str, Figure], files: list[str]
) -> list[Block]:
    suite = results.suite
    blocks: list[Block] = [Heading(1, f"jtask2vec report: {suite.name}")]
    if suite.description:
        blocks.append(Paragraph(suite.description))
    blocks += [Heading(2, "Verdict"), Bullets(verdict(results, data))]
    blocks += _tasks_section(results, data)
    blocks += _table2_section(data)
    blocks += _table3_section(data)
    blocks += _similarity_section(data, figs)
    blocks += _table4_section(data, figs)
    blocks += _selection_section(results, data)
    blocks += _provenance_section(results, files)
    return blocks


def _stand_in_note(data: ReportData, tasks: list[str]) -> list[Block]:
    marked = [t for t in dict.fromkeys(tasks) if t in data.stand_in]
    if not marked:
        return []
    return [
        Paragraph("† stand-in: " + "; ".join(f"{t} for {data.stand_in[t]}" for t in marked) + ".", note=True)
    ]


def _matrix_table(
    pivot: MeanStd,
    data: ReportData,
    corner: str,
    decimals: int,
    signed: bool = False,
    best_per_row: bool = False,
) -> Table:
    header = [corner] + [
        "no transfer (pretrained)" if str(c) == BASELINE_SOURCE else data.short(str(c))
        for c in pivot.mean.columns
    ]
    rows = []
    for r in pivot.mean.index:
        best = best_of(pivot.mean.loc[r], [BASELINE_SOURCE, r]) if best_per_row else []
        row = [Cell(data.short(str(r)))]
        for c in pivot.mean.columns:
            text = fmt_mean_std(pivot.mean.at[r, c], pivot.std.at[r, c], decimals, signed)
            row.append(Cell(text, bold=str(c) in best))
        rows.append(row)
    return Table(header, rows)


def _not_run(what: str) -> Paragraph:
    return Paragraph(f"{what}: {NOT_RUN} (no rows in this run's results).")


def _truncation(row: pd.Series) -> str:
    """``12.5% (p50 / p90 / max)``, or the missing mark for results without these columns."""
    share = row.get("truncated_share")
    if is_missing(share) or share == "":
        return MISSING
    lengths = " / ".join(
        MISSING if is_missing(row.get(k)) else str(int(row.get(k)))
        for k in ("tokens_p50", "tokens_p90", "tokens_max")
    )
    return f"{float(share):.1%} ({lengths})"


def _tasks_section(results: RunResults, data: ReportData) -> list[Block]:
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
    for t in names:
        row = by_name[t]
        rows.append(
            cells(
                [
                    data.label(t),
                    val(row, "loader"),
                    val(row, "n"),
                    f"{val(row, 'label0')} ({val(row, 'n_label0')})",
                    f"{val(row, 'label1')} ({val(row, 'n_label1')})",
                    f"{val(row, 'train')} / {val(row, 'dev')} / {val(row, 'test')}",
                    _truncation(row),
                    _short_hash(val(row, "data_hash")),
                    val(row, "source"),
                    val(row, "licence"),
                ]
            )
        )
    blocks.append(
        Table(
            [
                "task",
                "loader",
                "examples",
                "label 0 (n)",
                "label 1 (n)",
                "train / dev / test",
                "truncated (tokens p50 / p90 / max)",
                "data hash",
                "source",
                "licence",
            ],
            rows,
            caption="Table 1 — tasks, their sizes and data hashes",
            numeric=[False, False, True, False, False, True, True, False, False, False],
        )
    )
    blocks.append(
        Paragraph(
            f"Data hash: the hash of each task's derived data (first {HASH_DIGITS} hex digits; the "
            "full hash is in tasks.csv). Truncated: the share of texts longer than the probe's max_length "
            "tokens, which the probe sees cut to their first max_length tokens; in brackets the text "
            "lengths in tokens of the probe's tokenizer.",
            note=True,
        )
    )
    return blocks


HASH_DIGITS = 16


def _short_hash(text: str) -> str:
    return text[:HASH_DIGITS] + "…" if len(text) > HASH_DIGITS + 1 else text


def _table2_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 2 — test accuracy after fine-tuning")]
    t2 = data.table2
    if t2.empty:
        return [*blocks, _not_run("Fine-tuning")]
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


def _table3_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 3 — cosine similarity between task vectors")]
    if data.table3 is None or data.table3.empty:
        return [*blocks, _not_run("Raw cosine similarity")]
    blocks.append(_matrix_table(data.table3, data, "task", SIM_DECIMALS))
    blocks.append(
        Paragraph(
            "Raw cosine similarity cos(a, b) = 1 − cosine distance of the Fisher task vectors, mean ± "
            "standard deviation over seeds, to 4 decimals. The diagonal is 1 by definition where self-pairs "
            "were not stored.",
            note=True,
        )
    )
    return blocks + _stand_in_note(data, list(data.table3.mean.index))


def _similarity_section(data: ReportData, figs: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Task similarity for each distance")]
    shown = [figs[k] for k in figs if k.startswith("similarity_")]
    if not shown:
        return [*blocks, _not_run("Task distances")]
    blocks += shown
    if "dendrogram" in figs:
        blocks.append(figs["dendrogram"])
    else:
        blocks.append(
            Paragraph("Dendrogram: not drawn (needs a symmetric distance between at least two tasks).")
        )
    return blocks


def _table4_section(data: ReportData, figs: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Table 4 — accuracy after transfer")]
    if data.table4 is None or data.table4.empty:
        return [*blocks, _not_run("Transfer grid")]
    table = _matrix_table(data.table4, data, "target \\ source", ACC_DECIMALS, best_per_row=True)
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
        table = _matrix_table(data.gain, data, "target \\ source", ACC_DECIMALS, signed=True)
        blocks.append(
            Table(table.header, table.rows, caption="Table 4b — gain over no transfer (accuracy − baseline)")
        )
    if "transfer_gain" in figs:
        blocks.append(figs["transfer_gain"])
    blocks += _picks_table(data)
    return blocks + _stand_in_note(data, list(data.table4.mean.index) + list(data.table4.mean.columns))


def _picks_table(data: ReportData) -> list[Block]:
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


def _selection_section(results: RunResults, data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Does the most similar source transfer best?")]
    grid = data.evaluation
    if grid is None:
        blocks.append(_not_run("Evaluation of source selectors"))
    else:
        metrics = list(grid.mean.columns)
        best = {m: set(grid.best(m)) for m in metrics}
        caveat = set(flagged_scores(results.scores)["selector"])
        rows = [
            [Cell(f"{sel} ⚠" if sel in caveat else sel)]
            + [
                Cell(_count(grid.mean.at[sel, m]))
                if is_count(m)
                else Cell(
                    fmt_interval(grid.mean.at[sel, m], grid.ci_low.at[sel, m], grid.ci_high.at[sel, m]),
                    bold=sel in best[m],
                )
                for m in metrics
            ]
            for sel in grid.mean.index
        ]
        header = ["selector"] + [
            m if is_count(m) else f"{m} ({'↓' if lower_is_better(m) else '↑'})" for m in metrics
        ]
        blocks.append(Table(header, rows, caption=EVALUATION_CAPTION))
        n_seeds = _max_int(results.evaluation, "n_seeds")
        n_targets = _max_int(results.evaluation, "n_targets")
        conf = results.suite.evaluation.confidence
        blocks.append(
            Paragraph(
                "Rows: selectors (TASK2VEC distances first, then baselines); columns: metrics (↑ higher is "
                "better, ↓ lower is better); bold: best selector per metric. Intervals: "
                f"{fmt(100 * conf, 0)}% {ci_method_words(results.evaluation)} over seeds "
                f"({n_seeds} seed(s), {n_targets} target(s)); "
                "[n/a] where they cannot be estimated. "
                f"Feature-based selectors use {results.suite.evaluation.feature_layers!r} features "
                "('last': pooled last layer; 'mean': mean over layers of the pooled layer outputs); LEEP/NCE "
                "the source head's probabilities.",
                note=True,
            )
        )
        blocks += _flag_notes(results)
    blocks.append(Heading(3, "Does the best transfer beat no transfer beyond seed noise?"))
    tests = results.baseline_tests
    if tests.empty:
        blocks.append(_not_run("Baseline tests"))
        return blocks
    rank = {t: i for i, t in enumerate(data.order)}
    tests = tests.sort_values("target", key=lambda c: c.astype(str).map(lambda t: rank.get(t, len(rank))))
    has_p = "p_value" in tests.columns
    has_adj = "beats_baseline_adjusted" in tests.columns
    yes_no = {True: "yes", False: "no", None: "n/a"}
    rows = []
    for _, row in tests.iterrows():
        flag = as_bool(row["beats_baseline"])
        line = [
            Cell(data.short(str(row["target"]))),
            Cell(data.short(str(row["best_source"])) if not is_missing(row["best_source"]) else MISSING),
            Cell(fmt_interval(row["mean_gain"], row["ci_low"], row["ci_high"], signed=True)),
            Cell(yes_no[flag], bold=bool(flag)),
        ]
        if has_p:
            line.append(Cell(fmt(row["p_value"])))
        if has_adj:
            adj = as_bool(row["beats_baseline_adjusted"])
            line.append(Cell(yes_no[adj], bold=bool(adj)))
        rows.append(line)
    header = ["target", "best source", "mean gain [CI]", "beats no transfer"]
    header += ["p (one-sided)"] * has_p + ["beats, Bonferroni-adjusted"] * has_adj
    blocks.append(
        Table(
            header,
            rows,
            caption="Best transfer vs. no transfer",
            numeric=[False, False, True, False] + [True] * has_p + [False] * has_adj,
        )
    )
    blocks.append(
        Paragraph(
            "Per target, the source with the best mean gain over seeds; the interval is over seeds; 'beats "
            "no transfer': the interval lies above 0 (n/a with a single seed)."
            + (
                " Bonferroni-adjusted: the lower bound at the confidence corrected for picking the best of "
                "the target's sources."
                if has_adj
                else ""
            ),
            note=True,
        )
    )
    return blocks


def _flag_notes(results: RunResults) -> list[Block]:
    """A footnote per selector whose scores carry a caveat (e.g. LogME that did not converge)."""
    flagged = flagged_scores(results.scores)
    notes: list[Block] = []
    for (selector, flag), block in flagged.groupby(["selector", FLAG_COLUMN], sort=True):
        total = int((results.scores["selector"] == selector).sum())
        pairs = "; ".join(
            f"{r.source} → {r.target} (seed {r.seed})"
            for r in block.sort_values(["seed", "target"]).itertuples()
        )
        notes.append(
            Paragraph(
                f"⚠ {selector}: {len(block)} of {total} scores are flagged '{flag}' and may be unreliable: "
                f"{pairs}.",
                note=True,
            )
        )
    return notes


def _count(value: float) -> str:
    """A mean count: ``4`` when whole, else one decimal."""
    if is_missing(value):
        return MISSING
    return str(int(value)) if float(value).is_integer() else fmt(value, 1)


def _max_int(frame: pd.DataFrame, col: str) -> str:
    if col not in frame.columns:
        return MISSING
    values = pd.to_numeric(frame[col], errors="coerce").dropna()
    return str(int(values.max())) if len(values) else MISSING


def _flatten(env: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for key, value in env.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flatten(value, name + ".")
            continue
        if isinstance(value, list | tuple):
            text = ", ".join(readable(v) for v in value)
        elif isinstance(value, float):
            text = f"{value:.6g}"
            low = name.lower()
            if ("second" in low or "wall" in low or low.endswith("_s")) and np.isfinite(value):
                text += f" ({fmt_seconds(value)})"
        else:
            text = readable(value)
        out.append((name, text))
    return out


BIT_IDENTICAL_NOTE = (
    "Results are bit-identical only on the same hardware and library build: the same device, CPU "
    "instruction set, torch/CUDA/cuDNN versions and thread counts as above. Elsewhere expect differences "
    "of float rounding (and, through them, occasionally a different tie or early-stopping epoch)."
)


def _provenance_section(results: RunResults, files: list[str]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Reproducibility"), Heading(3, "Suite (exact configuration)")]
    blocks.append(Code(dump_suite(results.suite), "yaml"))
    blocks.append(Heading(3, "Environment"))
    env = _flatten(results.environment)
    if env:
        blocks.append(Table(["key", "value"], [cells([k, v]) for k, v in env], numeric=[False, False]))
        blocks.append(Paragraph(BIT_IDENTICAL_NOTE, note=True))
    else:
        blocks.append(Paragraph("No environment was recorded for this run."))
    blocks.append(Heading(3, "Files"))
    blocks.append(
        Paragraph(
            "Beside this report: every result table in long format as CSV and results.json (suite and "
            "environment); the pivoted Tables 2-4 as CSV (the mean, and the standard deviation in "
            "*_std.csv); the figures as PNG under figures/. Data hashes of the tasks are in Table 1. "
            "CSV files: " + ", ".join(files) + "."
        )
    )
    return blocks
