"""The verdict: at most five short bullets generated from the run's tables, led by the target-level answer
(does the best TASK2VEC distance beat chance, tested over targets by :mod:`jtask2vec.evaluation.claims`);
the details (similarity spreads, fine-tuning, ties in the ground truth, transfer ranges, every test's
numbers) go to the Findings (:func:`verdict_details`). Every number is read from the results (formatted with
:mod:`jtask2vec.report.format`, exactly as in the tables), none is written here; no claim is decided here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jtask2vec.report.data import ReportData
from jtask2vec.report.evaluation_grid import (
    as_bool,
    ci_method_words,
)
from jtask2vec.report.format import (
    ACC_DECIMALS,
    SIM_DECIMALS,
    fmt,
    fmt_interval,
    join_words,
    plural,
)
from jtask2vec.report.tables import off_diagonal
from jtask2vec.results import BASELINE_SOURCE, RunResults

# Below this many seeds a percentile bootstrap interval is too narrow (see jtask2vec.evaluation).
FEW_SEEDS_FOR_BOOTSTRAP = 10
# A similarity whose off-diagonal values all lie within this span tells tasks apart poorly.
NARROW_SIMILARITY_SPAN = 0.02


MAX_BULLETS = 5


def verdict(results: RunResults, data: ReportData) -> list[str]:
    """The verdict as at most :data:`MAX_BULLETS` short bullets."""
    parts = [_scope(results, data), _chance(data), _selectors(data), _transfer_short(results), _caveats(data)]
    return [p for p in parts if p][:MAX_BULLETS]


def verdict_details(results: RunResults, data: ReportData) -> list[str]:
    """What the verdict leaves out, for the Findings."""
    parts = [_finetune(data), _cosine(data), *_other_similarities(data), _paired(data), _friedman(data)]
    parts += [_statistical_ties(results), _all_tied(data), _transfer(results, data)]
    return [p for p in parts if p]


def _n_targets(data: ReportData) -> int:
    found = data.claims
    if found is None or not found.chance:
        return 0
    return max(c.n_targets for c in found.chance.values())


def _scope(results: RunResults, data: ReportData) -> str:
    n_seeds = len(data.seeds)
    text = (
        f"{plural(len(data.order), 'task')}, probe {results.suite.probe.name}, "
        f"{plural(n_seeds, 'seed')} ({', '.join(str(s) for s in data.seeds)})."
    )
    if data.stand_in:
        n = len(data.stand_in)
        text += f" {plural(n, 'task')} marked † {'stands' if n == 1 else 'stand'} in for tasks of the study."
    if _n_targets(data):
        text += (
            f" Every claim below is a test over the {plural(_n_targets(data), 'target')} (each target's "
            "metric averaged over its seeds)"
        )
        text += "." if n_seeds < 2 else "; the intervals over seeds in the tables show stability only."
    if n_seeds < 2:
        text += " With one seed the tables have no intervals: they show point values."
    elif "bootstrap" in (method := ci_method_words(results.evaluation)) and n_seeds < FEW_SEEDS_FOR_BOOTSTRAP:
        text += f" With only {n_seeds} seeds, intervals by {method} run narrow: indicative only."
    return text


def _chance(data: ReportData) -> str | None:
    """The answer: on which headline metrics the best distance beats chance, over targets."""
    found = data.claims
    if data.evaluation is None:
        return "Source selection was not evaluated in this run (no evaluation table)."
    if found is None or not found.chance:
        return "No TASK2VEC distance could be tested against chance (no distance or no random:expected)."
    by = {"better": [], "worse": [], "not distinguishable": [], "n/a": []}
    for metric, c in found.chance.items():
        by[c.verdict if c.verdict in by else "n/a"].append(f"{metric} ({c.subject}, p {fmt(c.p_value)})")
    n = _n_targets(data)
    parts = []
    if by["better"]:
        parts.append(f"better than chance on {'; '.join(by['better'])}")
    if by["worse"]:
        parts.append(f"worse than chance on {'; '.join(by['worse'])}")
    if by["not distinguishable"]:
        names = [x.split(" (", 1)[0] for x in by["not distinguishable"]]
        parts.append(f"not distinguishable from chance on {join_words(names)}")
    if by["n/a"]:
        parts.append("not testable with fewer than 2 targets")
    text = f"Does the most similar source transfer best? Over {plural(n, 'target')}, the best distance is "
    text += "; ".join(parts) + "."
    floor = 2.0 / 2**n if n else 1.0
    if n and floor >= 1 - data.confidence:
        text += (
            f" With {plural(n, 'target')} no test can reach the {fmt(100 * data.confidence, 0)}% level (the "
            f"smallest possible p is 2/2^{n} = {fmt(floor)}): add targets."
        )
    return text


def _selectors(data: ReportData) -> str | None:
    """The best distance against the other selectors, over targets (Holm); details in the Findings."""
    found = data.claims
    if found is None or not found.selectors:
        return None
    called = [c for c in found.selectors if c.called]
    if not called:
        return (
            f"Against the {plural(len({c.other for c in found.selectors}), 'other selector')} (paired over "
            f"targets, Holm over {plural(len(found.selectors), 'comparison')}): no difference is significant."
        )
    words = [
        f"{c.subject} {c.verdict} than {c.other} on {c.metric} (Holm p {fmt(c.p_adjusted)})" for c in called
    ]
    n = plural(len(found.selectors), "comparison")
    return (
        f"Against the other selectors (paired over targets, Holm over {n}): "
        + "; ".join(words[:3])
        + (f"; {len(words) - 3} more in the Findings" if len(words) > 3 else "")
        + "."
    )


def _transfer_short(results: RunResults) -> str | None:
    tests = results.baseline_tests
    if results.transfer is None or results.transfer.empty:
        return "The transfer grid was not run."
    if tests.empty:
        return None
    flags = [as_bool(v) for v in tests["beats_baseline"]]
    if all(f is None for f in flags):
        return "Whether the best transfer beats no transfer cannot be judged with one seed."
    k = sum(f is True for f in flags)
    text = f"{k} of {plural(len(flags), 'target')} gain from their best source beyond seed noise"
    if "beats_baseline_adjusted" in tests.columns:
        adjusted = sum(as_bool(v) is True for v in tests["beats_baseline_adjusted"])
        text += f" ({adjusted} after Bonferroni for picking the best source)"
    return text + "."


def _caveats(data: ReportData) -> str | None:
    """Ground-truth caveats in one line: targets whose sources all tie, fine-tunes that barely learn."""
    out = []
    if data.table2 is not None and not data.table2.empty:
        f1 = data.table2["macro_f1_mean"].dropna()
        weak = [str(t) for t in f1.index if f1[t] <= CONSTANT_MACRO_F1]
        if weak:
            out.append(f"{plural(len(weak), 'task')} barely learned (macro-F1 ≤ 0.5: {join_words(weak)})")
    tied = _all_tied_targets(data)
    if tied:
        out.append(f"every source ties on {join_words(tied)}")
    if not out:
        return None
    return "Caveats: " + "; ".join(out) + " (details under Findings)."


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


def _paired(data: ReportData) -> str | None:
    """One line on the best distance against every other selector; the comparisons themselves are the
    Findings' table (:func:`jtask2vec.report.sections.findings.selector_table`)."""
    found = data.claims
    if found is None or not found.selectors:
        return None
    first = found.selectors[0]
    called = [c for c in found.selectors if c.called]
    tail = f"{plural(len(called), 'difference')} significant" if called else "no difference significant"
    return (
        f"The best distance against every other selector, paired over {plural(first.n_targets, 'target')} "
        f"({first.test}; Holm over all {len(found.selectors)}): {tail} (table below)."
    )


def _friedman(data: ReportData) -> str | None:
    """One line; the tests themselves are the Findings' table
    (:func:`jtask2vec.report.sections.findings.friedman_table`)."""
    found = data.claims
    if found is None or not found.friedman:
        return None
    called = [m for m, f in found.friedman.items() if f.differences]
    tail = f"pairs that differ on {join_words(called)}" if called else "no pair of selectors differs"
    return (
        "All selectors ranked per target (Friedman + Nemenyi, Demšar 2006; the critical-difference diagram "
        f"sits beside the evaluation table): {tail} (table below)."
    )


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


def _all_tied_targets(data: ReportData) -> list[str]:
    if data.table4 is None or data.best.empty:
        return []
    tied = []
    for _, row in data.best.iterrows():
        target = row["target"]
        n_sources = int(
            data.table4.mean.loc[target].drop(labels=[BASELINE_SOURCE, target], errors="ignore").notna().sum()
        )
        if n_sources > 1 and len(row["best_sources"]) == n_sources:
            tied.append(str(target))
    return tied


def _all_tied(data: ReportData) -> str | None:
    """Targets where every source transfers equally well make any ranking a top-1 hit."""
    tied = _all_tied_targets(data)
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
