"""The verdict: a few sentences generated from the run's tables. Every number in them is read from the
results (formatted with :mod:`jtask2vec.report.format`, exactly as in the tables), none is written here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jtask2vec.report.data import ReportData
from jtask2vec.report.evaluation_grid import (
    TASK2VEC_PREFIX,
    as_bool,
    ci_method_words,
    find_metric,
    intervals_overlap,
    is_count,
    lower_is_better,
)
from jtask2vec.report.format import (
    ACC_DECIMALS,
    SIM_DECIMALS,
    fmt,
    fmt_interval,
    is_missing,
    join_words,
    plural,
)
from jtask2vec.report.tables import off_diagonal
from jtask2vec.results import BASELINE_SOURCE, RunResults

# Below this many seeds a percentile bootstrap interval is too narrow (see jtask2vec.evaluation).
FEW_SEEDS_FOR_BOOTSTRAP = 10
# A similarity whose off-diagonal values all lie within this span tells tasks apart poorly.
NARROW_SIMILARITY_SPAN = 0.02


def verdict(results: RunResults, data: ReportData) -> list[str]:
    """The verdict as a list of short paragraphs."""
    parts = [_scope(results, data)]
    parts += [s for s in (_finetune(data), _cosine(data), *_other_similarities(data)) if s]
    parts += _selection(results, data)
    parts += [s for s in (_paired(results, data), _statistical_ties(results), _all_tied(data)) if s]
    parts += [s for s in (_transfer(results, data),) if s]
    return parts


def _scope(results: RunResults, data: ReportData) -> str:
    n_seeds = len(data.seeds)
    text = (
        f"This run covers {plural(len(data.order), 'task')} with probe {results.suite.probe.name} "
        f"and {plural(n_seeds, 'seed')} ({', '.join(str(s) for s in data.seeds)})."
    )
    if data.stand_in:
        n = len(data.stand_in)
        text += (
            " 1 task stands in for a task of the study (marked †)."
            if n == 1
            else f" {n} tasks stand in for tasks of the study (marked †)."
        )
    if n_seeds < 2:
        text += (
            " With a single seed, standard deviations and confidence intervals cannot be estimated: the"
            " tables show point values, and no difference below can be judged against seed noise."
        )
    else:
        conf = results.suite.evaluation.confidence
        method = ci_method_words(results.evaluation)
        text += (
            f" Tables show mean ± sample standard deviation over seeds; evaluation intervals are"
            f" {fmt(100 * conf, 0)}% {method} confidence intervals over seeds."
        )
        if "bootstrap" in method and n_seeds < FEW_SEEDS_FOR_BOOTSTRAP:
            text += (
                f" With only {n_seeds} seeds a percentile bootstrap has few distinct resamples and its"
                " intervals tend to be too narrow: read them as indicative."
            )
    return text


# A constant prediction reaches at most this macro-F1 on a binary task (majority share q: q / (1 + q)).
CONSTANT_MACRO_F1 = 0.5


def _finetune(data: ReportData) -> str | None:
    acc = data.table2["accuracy_mean"].dropna() if not data.table2.empty else pd.Series(dtype=float)
    if acc.empty:
        return None
    lo, hi = acc.idxmin(), acc.idxmax()
    if len(acc) == 1:
        text = f"Fine-tuned test accuracy: {fmt(acc[lo])} ({lo})."
    else:
        text = f"Fine-tuned test accuracy ranges from {fmt(acc[lo])} ({lo}) to {fmt(acc[hi])} ({hi})."
    f1 = data.table2["macro_f1_mean"].dropna()
    weak = [f"{t} {fmt(f1[t])}" for t in f1.index if f1[t] <= CONSTANT_MACRO_F1]
    if weak:
        text += (
            f" Macro-F1 is at or below {fmt(CONSTANT_MACRO_F1, 1)}, the most a constant prediction can "
            f"reach, for {plural(len(weak), 'task')} ({'; '.join(weak)}): there the fine-tuned probe barely "
            "separates the classes, and transfer results on those targets say little."
        )
    return text


def similarity_spread(matrix: pd.DataFrame) -> tuple[float, tuple[str, str], float, tuple[str, str]] | None:
    """``(min, argmin pair, max, argmax pair)`` of the off-diagonal cells; ``None`` if there are none."""
    cells = off_diagonal(matrix)
    if cells.empty:
        return None
    return float(cells.min()), cells.idxmin(), float(cells.max()), cells.idxmax()


def _cosine(data: ReportData) -> str | None:
    if data.table3 is None:
        return "Raw cosine similarity was not computed in this run (no cosine distance)."
    spread = similarity_spread(data.table3.mean)
    if spread is None:
        return None
    lo, (la, lb), hi, (ha, hb) = spread
    text = (
        f"Raw cosine similarity between task vectors (Table 3): all off-diagonal pairs lie between "
        f"{fmt(lo, SIM_DECIMALS)} ({la}–{lb}) and {fmt(hi, SIM_DECIMALS)} ({ha}–{hb}), "
        f"a spread of {fmt(hi - lo, SIM_DECIMALS)}"
    )
    if hi - lo < NARROW_SIMILARITY_SPAN:
        text += ", so raw cosine barely discriminates between tasks: every pair looks almost equally similar."
    else:
        text += "."
    return text


def _other_similarities(data: ReportData) -> list[str]:
    out = []
    for name in data.distances:
        if name == "cosine" or not name.endswith("cosine"):
            continue
        spread = similarity_spread(data.matrices[name].mean)
        if spread is None:
            continue
        lo, _, hi, _ = spread
        out.append(
            f"The {name} similarity spreads the same pairs from {fmt(lo, SIM_DECIMALS)} to "
            f"{fmt(hi, SIM_DECIMALS)} (spread {fmt(hi - lo, SIM_DECIMALS)})."
        )
    return out


def _selection(results: RunResults, data: ReportData) -> list[str]:
    grid = data.evaluation
    if grid is None:
        return ["Source selection was not evaluated in this run (no evaluation table)."]
    metrics = list(grid.mean.columns)
    selectors = list(grid.mean.index)
    t2v = [s for s in selectors if s.startswith(TASK2VEC_PREFIX)]
    others = [s for s in selectors if not s.startswith(TASK2VEC_PREFIX)]
    chosen = [m for m in (find_metric(metrics, "top1"), find_metric(metrics, "regret")) if m]
    if not chosen:
        chosen = [m for m in metrics if not is_count(m)][:2]
    out = []
    for metric in chosen:
        out.append(_selection_on(grid, metric, t2v, others))
    return out


def _cell(grid, selector: str, metric: str) -> str:
    return fmt_interval(
        grid.mean.at[selector, metric], grid.ci_low.at[selector, metric], grid.ci_high.at[selector, metric]
    )


def _selection_on(grid, metric: str, t2v: list[str], others: list[str]) -> str:
    direction = "lower is better" if lower_is_better(metric) else "higher is better"
    if not t2v:
        best = grid.best(metric)
        return (
            f"On {metric} ({direction}) no TASK2VEC selector was evaluated; the best selector is "
            f"{join_words(best)} with {_cell(grid, best[0], metric)}."
            if best
            else f"No values for {metric}."
        )
    best = grid.best(metric, among=t2v)
    if not best:
        return f"No TASK2VEC selector has a value for {metric}."
    lead = best[0]
    value = _cell(grid, lead, metric)
    if len(best) == 1:
        text = f"On {metric} ({direction}), the best TASK2VEC distance is {lead} with {value}."
    elif len(best) == len(t2v):
        text = f"On {metric} ({direction}), all {len(best)} TASK2VEC distances tie at {value}."
    else:
        text = (
            f"On {metric} ({direction}), the best TASK2VEC distances are {join_words(best)}, tied at {value}."
        )
    comparisons, relations = [], []
    lead_iv = (grid.ci_low.at[lead, metric], grid.ci_high.at[lead, metric])
    lead_mean = grid.mean.at[lead, metric]
    for other in others:
        mean = grid.mean.at[other, metric]
        if is_missing(mean):
            continue
        iv = (grid.ci_low.at[other, metric], grid.ci_high.at[other, metric])
        overlap = intervals_overlap(lead_iv, iv)
        if overlap is None:
            relation = None
        elif overlap:
            relation = "intervals overlap: not distinguishable"
        else:
            better = lead_mean < mean if lower_is_better(metric) else lead_mean > mean
            relation = (
                "intervals disjoint: TASK2VEC better" if better else f"intervals disjoint: {other} better"
            )
        relations.append(relation)
        comparisons.append(f"{other} {_cell(grid, other, metric)}" + (f" ({relation})" if relation else ""))
    if comparisons:
        text += " Against the baselines: " + "; ".join(comparisons) + "."
        if any(r is None for r in relations):
            text += " Without intervals these are point estimates only: no difference can be called."
    overall = grid.best(metric)
    if overall and not any(s in t2v for s in overall):
        text += f" The best selector overall on {metric} is {join_words(overall)}, not a TASK2VEC distance."
    return text


def _paired(results: RunResults, data: ReportData) -> str | None:
    """The lead TASK2VEC distance against every other selector, paired over targets, Holm-corrected."""
    from jtask2vec.evaluation import paired_comparisons

    grid = data.evaluation
    per_target = results.per_target
    if grid is None or per_target is None or per_target.empty:
        return None
    metrics = [m for m in (find_metric(list(grid.mean.columns), k) for k in ("top1", "regret")) if m]
    t2v = [s for s in grid.mean.index if s.startswith(TASK2VEC_PREFIX)]
    others = [s for s in grid.mean.index if not s.startswith(TASK2VEC_PREFIX)]
    if not metrics or not t2v or not others:
        return None
    lead = (grid.best(metrics[0], among=t2v) or [t2v[0]])[0]
    conf = results.suite.evaluation.confidence
    table = paired_comparisons(per_target, [(lead, o) for o in others], metrics, confidence=conf)
    table = table.dropna(subset=["p_value"])
    if table.empty:
        return (
            f"Paired over targets, {lead} cannot be compared with the other selectors (too few targets and "
            "seeds for a paired test)."
        )
    called = [
        f"{r.verdict} than {r.selector_b if r.verdict.startswith(lead) else lead} on {r.metric}"
        f" (difference {fmt_interval(r.mean_diff, r.ci_low, r.ci_high, signed=True)}, Holm p {fmt(r.p_holm)})"
        for r in table.itertuples(index=False)
        if r.verdict != "not distinguishable"
    ]
    text = (
        f"Paired over targets ({plural(len(table), 'comparison')} of {lead} with the other selectors on "
        f"{join_words(metrics)}, {fmt(100 * conf, 0)}% level, Holm-corrected): "
    )
    if not called:
        return text + "no difference is significant."
    return text + "; ".join(called) + f"; the other {len(table) - len(called)} are not distinguishable."


def _statistical_ties(results: RunResults) -> str | None:
    """How many sources the transfer grid cannot tell apart from each target's best one."""
    from jtask2vec.evaluation import tied_with_best

    if results.transfer is None or results.transfer.empty:
        return None
    summary, _ = tied_with_best(results.transfer, confidence=results.suite.evaluation.confidence)
    if summary.empty:
        return None
    counts = "; ".join(f"{r.target} {r.n_tied} of {r.n_sources}" for r in summary.itertuples(index=False))
    text = (
        f"Sources statistically tied with the best (one-sided paired t-test over seeds): {counts}"
        " (top1_tied_hit counts a pick of any of them as a hit)."
    )
    inseparable = [str(r.target) for r in summary.itertuples(index=False) if not r.separable]
    if len(inseparable) == len(summary):
        text += " The grid cannot separate the sources at all: on every target no source is significantly"
        text += " worse than the best, so no selector can be told right or wrong from this grid."
    elif inseparable:
        text += f" On {join_words(inseparable)} the grid cannot separate the sources at all."
    return text


def _all_tied(data: ReportData) -> str | None:
    """Targets where every source transfers equally well make any ranking a top-1 hit."""
    if data.table4 is None or data.best.empty:
        return None
    tied = []
    for _, row in data.best.iterrows():
        target = row["target"]
        n_sources = int(
            data.table4.mean.loc[target].drop(labels=[BASELINE_SOURCE, target], errors="ignore").notna().sum()
        )
        if n_sources > 1 and len(row["best_sources"]) == n_sources:
            tied.append(str(target))
    if not tied:
        return None
    return (
        f"For {len(tied)} of {plural(len(data.best), 'target')} ({join_words(tied)}) every source gives the "
        "same mean accuracy after transfer, so any selector picks a best source there: top-1 and regret "
        "cannot separate the selectors on those targets."
    )


def _transfer(results: RunResults, data: ReportData) -> str | None:
    parts = []
    gain = data.gain
    if gain is not None:
        cells = {
            (t, s): gain.mean.at[t, s]
            for t in gain.mean.index
            for s in gain.mean.columns
            if t != s and not np.isnan(gain.mean.at[t, s])
        }
        if cells:
            series = pd.Series(cells, dtype=float)
            (lt, ls), (ht, hs) = series.idxmin(), series.idxmax()
            positive = int((series > 0).sum())
            parts.append(
                f"Mean transfer gains over the no-transfer baseline (Table 4) range from "
                f"{fmt(series.min(), ACC_DECIMALS, signed=True)} ({ls} → {lt}) to "
                f"{fmt(series.max(), ACC_DECIMALS, signed=True)} ({hs} → {ht}); "
                f"{positive} of {plural(len(series), 'source–target pair')} have a positive mean gain."
            )
    tests = results.baseline_tests
    if not tests.empty:
        flags = [as_bool(v) for v in tests["beats_baseline"]]
        n = len(tests)
        winners = [
            f"{row.target} from {row.best_source}, gain "
            f"{fmt_interval(row.mean_gain, row.ci_low, row.ci_high, signed=True)}"
            for row, flag in zip(tests.itertuples(index=False), flags, strict=True)
            if flag
        ]
        if all(f is None for f in flags):
            parts.append(
                "Whether the best transfer beats no transfer beyond seed noise cannot be judged with a "
                "single seed."
            )
        elif winners:
            parts.append(
                f"{len(winners)} of {plural(n, 'target')} gain from their best transfer source beyond seed "
                f"noise: {'; '.join(winners)}."
            )
            if "beats_baseline_adjusted" in tests.columns:
                adjusted = sum(as_bool(v) is True for v in tests["beats_baseline_adjusted"])
                parts.append(
                    f"After a Bonferroni adjustment for picking the best of the sources, {adjusted} of "
                    f"{len(winners)} remain."
                )
        else:
            parts.append(f"No target gains from its best transfer source beyond seed noise ({n} tested).")
    elif gain is not None:
        parts.append("Whether the best transfer beats no-transfer beyond seed noise was not tested.")
    if gain is None:
        return "The transfer grid was not run."
    return " ".join(parts) if parts else None
