"""The evaluation table pivoted for the report: selectors in rows (TASK2VEC first), metrics in columns
(top-1, regret@k, NDCG, rank correlations, counts last), with the confidence interval of every cell."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jtask2vec.results import RunResults

TASK2VEC_PREFIX = "task2vec:"


def selector_order(results: RunResults, selectors: list[str]) -> list[str]:
    """TASK2VEC selectors first (in the suite's distance order), then baselines (suite order, each followed
    by its variants such as ``random:expected``), then the rest (sorted)."""
    present = list(dict.fromkeys(str(s) for s in selectors))
    ev = results.suite.evaluation
    t2v = [f"{TASK2VEC_PREFIX}{d}" for d in ev.distances if f"{TASK2VEC_PREFIX}{d}" in present]
    t2v += sorted(s for s in present if s.startswith(TASK2VEC_PREFIX) and s not in t2v)
    base: list[str] = []
    for b in ev.baselines:
        base += [b] if b in present else []
        base += sorted(s for s in present if s.startswith(f"{b}:"))
    rest = sorted(s for s in present if s not in t2v and s not in base)
    return t2v + base + rest


_METRIC_GROUPS = [
    r"^(top-?1|hit@?1)(?!\d)",
    r"^top",
    r"^hit",
    r"^regret",
    r"^ndcg",
    r"^robs",
    r"^tror",
    r"^spearman",
    r"^kendall",
    r"^pearson",
]
_COUNT_PREFIX = "n_"  # n_sources, ...: counts, not quality metrics


def is_count(metric: str) -> bool:
    """Counts such as ``n_sources`` describe the evaluation; they have no "better" direction."""
    return metric.lower().startswith(_COUNT_PREFIX)


def metric_order(metrics: list[str]) -> list[str]:
    """top-1 first, then regret@k (by k), NDCG, rank correlations, any other metric alphabetically, and counts
    (``n_sources``) last."""

    def key(metric: str) -> tuple[int, float, str]:
        lower = metric.lower()
        group = next(
            (i for i, pat in enumerate(_METRIC_GROUPS) if re.search(pat, lower)), len(_METRIC_GROUPS)
        )
        if is_count(metric):
            group = len(_METRIC_GROUPS) + 1
        k = re.search(r"@(\d+)", lower)
        return group, float(k.group(1)) if k else -1.0, lower

    return sorted(dict.fromkeys(str(m) for m in metrics), key=key)


def lower_is_better(metric: str) -> bool:
    """Regret, ranks (ROBS, TROR), errors and losses are better when lower; every other metric when higher."""
    lower = metric.lower()
    if lower.startswith(("robs", "tror")):
        return True
    return any(word in lower for word in ("regret", "rank_of", "error", "loss", "mean_rank"))


@dataclass(frozen=True)
class EvaluationGrid:
    """The evaluation table pivoted: rows selectors, columns metrics, three aligned frames."""

    mean: pd.DataFrame
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame
    n_seeds: pd.DataFrame

    def best(self, metric: str, among: list[str] | None = None) -> list[str]:
        """Selectors with the best mean on ``metric`` (ties all returned), optionally among a subset; none
        for a count such as ``n_sources``."""
        if is_count(metric):
            return []
        col = self.mean[metric]
        if among is not None:
            col = col.reindex([s for s in among if s in col.index])
        col = col.dropna()
        if col.empty:
            return []
        target = col.min() if lower_is_better(metric) else col.max()
        return [str(s) for s in col.index if np.isclose(col[s], target, rtol=0, atol=1e-12)]


def evaluation_grid(results: RunResults) -> EvaluationGrid | None:
    ev = results.evaluation
    if ev.empty:
        return None
    ev = ev.copy()
    ev["selector"] = ev["selector"].astype(str)
    ev["metric"] = ev["metric"].astype(str)
    selectors = selector_order(results, ev["selector"].unique().tolist())
    metrics = metric_order(ev["metric"].unique().tolist())
    frames = {}
    for col in ("mean", "ci_low", "ci_high", "n_seeds"):
        values = pd.to_numeric(ev[col], errors="coerce") if col in ev.columns else np.nan
        wide = ev.assign(_v=values).pivot_table(
            index="selector", columns="metric", values="_v", aggfunc="first", dropna=False
        )
        frames[col] = wide.reindex(index=selectors, columns=metrics).astype(float)
    return EvaluationGrid(frames["mean"], frames["ci_low"], frames["ci_high"], frames["n_seeds"])


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool | None:
    """Whether two closed intervals overlap; ``None`` if either is undefined."""
    if any(np.isnan(x) for x in (*a, *b)):
        return None
    return bool(a[0] <= b[1] and b[0] <= a[1])


def find_metric(metrics: list[str], kind: str) -> str | None:
    """The metric standing for ``kind`` ("top1" or "regret"): top-1 hit rate, regret@1 (else smallest k)."""
    lower = {m: m.lower() for m in metrics}
    if kind == "top1":
        for m, low in lower.items():
            if re.search(_METRIC_GROUPS[0], low):
                return m
        return None
    if kind == "regret":
        regrets = [m for m, low in lower.items() if low.startswith("regret")]
        return metric_order(regrets)[0] if regrets else None
    raise ValueError(kind)


CI_METHOD_WORDS = {
    "bootstrap": "percentile bootstrap",
    "t": "Student-t",
    "hierarchical": "hierarchical bootstrap (targets, then seeds)",
}


def ci_method_words(evaluation: pd.DataFrame) -> str:
    """How the evaluation's intervals were formed, in words (from its ``ci_method`` column if any)."""
    if "ci_method" not in evaluation.columns:
        return CI_METHOD_WORDS["bootstrap"]
    methods = [str(m) for m in evaluation["ci_method"].dropna().unique()]
    return " / ".join(CI_METHOD_WORDS.get(m, m) for m in methods) or CI_METHOD_WORDS["bootstrap"]


def as_bool(value: object) -> bool | None:
    """``beats_baseline`` as read back from CSV may be a bool, a number or a string."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return None if np.isnan(value) else bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in {"true", "yes", "1"}:
            return True
        if low in {"false", "no", "0"}:
            return False
    return None
