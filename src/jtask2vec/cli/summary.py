"""Terminal summaries of a run (the full tables are in the report)."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console

from jtask2vec.cli.tables import Column, print_fitted
from jtask2vec.results import BASELINE_SOURCE, FLAG_COLUMN, RunResults, flagged_scores

# The headline metrics, in this order; the report has all of them.
CONSOLE_METRICS = ("top1_hit", "regret@1", "regret@3", "ndcg", "spearman", "kendall")

# Deliberate short names of selectors for 80-column tables (a legend line explains them).
SHORT_SELECTORS = {
    "task2vec:cosine": "t2v:cos",
    "task2vec:normalized-cosine": "t2v:ncos",
    "task2vec:rms-cosine": "t2v:rms",
    "task2vec:asymmetric": "t2v:asym",
    "task2vec:symmetric-kl": "t2v:skl",
    "random:expected": "rand:exp",
    "hscore-shrinkage": "hs-shrink",
}


def short_selector(name: str) -> str:
    """The short name of a selector in console tables (unknown names unchanged)."""
    return SHORT_SELECTORS.get(name, name)


def selector_legend(names) -> str:
    """``t2v:ncos = task2vec:normalized-cosine, ...`` for the abbreviated names among ``names``."""
    pairs = [f"{short_selector(n)} = {n}" for n in dict.fromkeys(names) if short_selector(n) != n]
    return ("Legend: " + ", ".join(pairs)) if pairs else ""


def _fmt(mean: float, low: float | None = None, high: float | None = None) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return f"{mean:.3f}"
    return f"{mean:.3f}\n[{low:.3f}, {high:.3f}]"


def print_evaluation(results: RunResults, console: Console) -> None:
    ev = results.evaluation
    if ev.empty:
        console.print("No evaluation (no transfer results).")
        return
    present = set(ev["metric"])
    metrics = [m for m in CONSOLE_METRICS if m in present]
    method = str(ev["ci_method"].iloc[0]) if "ci_method" in ev.columns and len(ev) else "bootstrap"
    level = round(100 * results.suite.evaluation.confidence)
    n_seeds = len(results.suite.seeds)
    intervals = f"{level}% {method} CI over seeds" if n_seeds > 1 else "1 seed: no intervals"
    title = f"How well each selector ranks the sources ({results.suite.name}; {intervals})"
    rows = []
    for selector, block in ev.groupby("selector", sort=False):
        by_metric = {r.metric: r for r in block.itertuples()}
        cells = []
        for metric in metrics:
            r = by_metric.get(metric)
            cells.append(_fmt(r.mean, r.ci_low, r.ci_high) if r is not None else "–")
        rows.append([short_selector(str(selector)), *cells])
    legend = selector_legend(str(s) for s in ev["selector"].unique())
    columns = [Column("selector", "left"), *(Column(m) for m in metrics)]
    print_fitted(console, title, columns, rows, legend=legend)
    print_flag_notes(results, console)


def print_flag_notes(results: RunResults, console: Console) -> None:
    """One line per selector whose scores carry a caveat (e.g. LogME that did not converge)."""
    flagged = flagged_scores(results.scores)
    for (selector, flag), block in flagged.groupby(["selector", FLAG_COLUMN], sort=True):
        total = int((results.scores["selector"] == selector).sum())
        console.print(
            f"[yellow]note:[/] {selector}: {len(block)} of {total} scores flagged '{flag}' "
            f"(see the scores table; they may be unreliable)",
            highlight=False,
        )


def print_summary(results: RunResults, console: Console) -> None:
    ft = results.finetune
    if not ft.empty:
        several = ft.groupby("task")["accuracy"].size().max() > 1
        what = "mean ± std over seeds" if several else "one seed: the values alone, no spread"
        rows = []
        for task, block in ft.groupby("task", sort=False):
            mean = block["accuracy"].mean()
            accuracy = (
                f"{mean:.4f} ± {block['accuracy'].std(ddof=1):.4f}" if len(block) > 1 else f"{mean:.4f}"
            )
            rows.append([str(task), accuracy, f"{block['macro_f1'].mean():.4f}", str(len(block))])
        columns = [Column("task", "left"), Column("accuracy"), Column("macro-F1"), Column("seeds")]
        print_fitted(console, f"Test accuracy after fine-tuning ({what})", columns, rows)
    tr = results.transfer
    if not tr.empty:
        grid = tr.pivot_table(index="target", columns="source", values="accuracy", aggfunc="mean")
        cols = [BASELINE_SOURCE] + [c for c in grid.columns if c != BASELINE_SOURCE]
        rows = [
            [str(target), *("–" if pd.isna(row.get(c)) else f"{row[c]:.4f}" for c in cols)]
            for target, row in grid.iterrows()
        ]
        columns = [Column("target \\ source", "left"), *(Column(str(c)) for c in cols)]
        title = "Transfer accuracy (rows target, columns source; mean over seeds)"
        print_fitted(console, title, columns, rows)
    print_evaluation(results, console)
