"""The evaluation of the source selectors (with intervals) and the best-transfer-vs-no-transfer tests."""

from __future__ import annotations

from jtask2vec.report import figures
from jtask2vec.report.data import ReportData
from jtask2vec.report.evaluation_grid import as_bool, ci_method_words, is_count, lower_is_better
from jtask2vec.report.format import MISSING, fmt, fmt_interval, is_missing
from jtask2vec.report.render import Block, Cell, Figure, Heading, Paragraph, Table
from jtask2vec.report.sections.common import count, max_int, not_run
from jtask2vec.results import FLAG_COLUMN, RunResults, flagged_scores

EVALUATION_CAPTION = (
    "Evaluation of source selectors: mean [CI low, CI high]. top1_hit: top pick is a best source; "
    "top1_tied_hit: top pick statistically tied with the best (paired t over seeds); "
    "regret@k: best − best of top k (accuracy); regret_rel@k: (best − best of top k) / best × 100; "
    "ndcg: min-max gain; ndcg_exp: gain "
    "2^(100·acc) − 1 (Schulte et al. 2024); robs: rank of the best source; tror: true rank of the top pick"
)


def selection_figures(data: ReportData) -> dict[str, Figure]:
    """The critical-difference diagram of the first headline metric with a Friedman test (Demšar 2006)."""
    found = data.claims
    if found is None or not found.friedman:
        return {}
    metric, f = next(iter(found.friedman.items()))
    png = figures.cd_diagram(
        f.mean_ranks,
        f.critical_difference,
        f.cliques,
        f"Mean rank over {f.n_targets} targets on {metric} (1 = best); Friedman p {fmt(f.p_value)}",
    )
    caption = (
        f"Critical-difference diagram on {metric}: each selector's rank among all selectors, averaged over "
        f"{f.n_targets} targets (each target's metric averaged over its seeds first); a thick line joins "
        f"selectors whose mean ranks differ by less than the critical difference "
        f"{fmt(f.critical_difference, 2)} (Nemenyi, {fmt(100 * data.confidence, 0)}%), which cannot be told "
        f"apart. Friedman test over targets: p {fmt(f.p_value)}"
        + ("." if f.p_value < 1 - data.confidence else ": no selector is shown to differ from another.")
    )
    return {"cd_diagram": Figure("figures/cd_diagram.png", caption, png)}


def selection_section(
    results: RunResults, data: ReportData, figs: dict[str, Figure] | None = None
) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Does the most similar source transfer best?")]
    grid = data.evaluation
    if grid is None:
        blocks.append(not_run("Evaluation of source selectors"))
    else:
        metrics = list(grid.mean.columns)
        best = {m: set(grid.best(m)) for m in metrics}
        caveat = set(flagged_scores(results.scores)["selector"])
        rows = [
            [Cell(f"{sel} ⚠" if sel in caveat else sel)]
            + [
                Cell(count(grid.mean.at[sel, m]))
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
        n_seeds = max_int(results.evaluation, "n_seeds")
        n_targets = max_int(results.evaluation, "n_targets")
        conf = results.suite.evaluation.confidence
        blocks.append(
            Paragraph(
                "Rows: selectors (TASK2VEC distances first, then baselines); columns: metrics (↑ higher is "
                "better, ↓ lower is better); bold: best selector per metric. Intervals: "
                f"{fmt(100 * conf, 0)}% {ci_method_words(results.evaluation)} over seeds "
                f"({n_seeds} seed(s), {n_targets} target(s)); "
                "[n/a] where they cannot be estimated. These intervals show seed stability; the claims "
                "of the verdict are tested over targets (Findings). "
                f"Feature-based selectors use {results.suite.evaluation.feature_layers!r} features "
                "('last': pooled last layer; 'mean': mean over layers of the pooled layer outputs); LEEP/NCE "
                "the source head's probabilities.",
                note=True,
            )
        )
        blocks += flag_notes(results)
        if figs and "cd_diagram" in figs:
            blocks.append(figs["cd_diagram"])
    blocks.append(Heading(3, "Does the best transfer beat no transfer beyond seed noise?"))
    tests = results.baseline_tests
    if tests.empty:
        blocks.append(not_run("Baseline tests"))
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


def flag_notes(results: RunResults) -> list[Block]:
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
