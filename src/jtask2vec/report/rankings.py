"""Table 4 in full, one row per (target, source), and the top-k sources of each target.

``gain`` is accuracy minus the no-transfer accuracy of the same target and seed (paired by seed); its
interval is Student t over seeds, ``mean ± t_{(1+c)/2, n−1} · sd / √n`` (as in the baseline tests of
:mod:`jtask2vec.evaluation`), undefined with fewer than two seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from jtask2vec.report.tables import transfer_with_gain
from jtask2vec.results import BASELINE_SOURCE, RunResults

TOP_K = 3
LONG_COLUMNS = [
    "target",
    "source",
    "n_seeds",
    "accuracy_mean",
    "accuracy_std",
    "gain_mean",
    "gain_ci_low",
    "gain_ci_high",
    "rank",
]


def t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student-t interval of the mean of ``values``; NaNs with fewer than two values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) < 2:
        return float("nan"), float("nan")
    half = float(stats.t.ppf((1 + confidence) / 2, len(v) - 1)) * float(v.std(ddof=1)) / math.sqrt(len(v))
    return float(v.mean()) - half, float(v.mean()) + half


def transfer_long(results: RunResults, order: list[str], confidence: float | None = None) -> pd.DataFrame:
    """Every (target, source) cell of Table 4 with its seed statistics (columns :data:`LONG_COLUMNS`).

    ``rank``: 1 for the source with the highest mean accuracy on the target, self-transfer and the no-transfer
    row excluded (they get no rank); ties share the smaller rank. Rows: targets in ``order``, the no-transfer
    row first, then sources by rank.
    """
    if results.transfer.empty:
        return pd.DataFrame(columns=LONG_COLUMNS)
    conf = results.suite.evaluation.confidence if confidence is None else confidence
    tr = transfer_with_gain(results).dropna(subset=["accuracy"])
    rank_of = {t: i for i, t in enumerate(order)}
    rows = []
    for (target, source), block in tr.groupby(["target", "source"], sort=False):
        gains = block["gain"].to_numpy(dtype=np.float64)
        low, high = t_interval(gains, conf) if source != BASELINE_SOURCE else (np.nan, np.nan)
        acc = block["accuracy"].to_numpy(dtype=np.float64)
        rows.append(
            {
                "target": target,
                "source": source,
                "n_seeds": len(block),
                "accuracy_mean": float(acc.mean()),
                "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else np.nan,
                "gain_mean": float(np.nanmean(gains)) if np.isfinite(gains).any() else np.nan,
                "gain_ci_low": low,
                "gain_ci_high": high,
            }
        )
    out = pd.DataFrame(rows, columns=LONG_COLUMNS)
    candidate = (out["source"] != BASELINE_SOURCE) & (out["source"] != out["target"])
    out.loc[candidate, "rank"] = (
        out[candidate].groupby("target")["accuracy_mean"].rank(method="min", ascending=False)
    )
    out["_t"] = out["target"].map(lambda t: rank_of.get(t, len(rank_of)))
    out["_b"] = out["source"] != BASELINE_SOURCE
    out["_r"] = out["rank"].fillna(np.inf)
    out = out.sort_values(["_t", "target", "_b", "_r", "source"], kind="stable")
    return out.drop(columns=["_t", "_b", "_r"]).reset_index(drop=True)


def top_sources(long: pd.DataFrame, k: int = TOP_K) -> pd.DataFrame:
    """The ``k`` best-ranked sources of each target (rows of :func:`transfer_long` with a rank ≤ k; more
    than ``k`` when tied at the k-th place), plus ``baseline_accuracy`` (the target's no-transfer mean)."""
    if long.empty:
        return long.assign(baseline_accuracy=pd.Series(dtype=float))
    base = long[long["source"] == BASELINE_SOURCE].set_index("target")["accuracy_mean"]
    top = long[long["rank"].notna() & (long["rank"] <= k)].copy()
    top["baseline_accuracy"] = top["target"].map(base)
    return top.reset_index(drop=True)
