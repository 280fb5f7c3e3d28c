"""Plumbing between the long tables of :mod:`jtask2vec.results` and the metrics: which sources are
candidates, pairing scores with transfer results, one row per (selector, seed, target, metric)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from jtask2vec.errors import DataError
from jtask2vec.evaluation.metrics import random_expected_metrics, rank_correlations, ranking_metrics
from jtask2vec.results import BASELINE_SOURCE, TABLE_COLUMNS

POOLED = "(all)"


def _check_columns(table: pd.DataFrame, name: str) -> None:
    missing = [c for c in TABLE_COLUMNS[name] if c not in table.columns]
    if missing:
        raise DataError(f"{name} table: missing columns {missing}")


def candidate_transfer(transfer: pd.DataFrame) -> pd.DataFrame:
    """Transfer rows that are candidate sources (no baseline, no self-transfer), duplicates rejected."""
    _check_columns(transfer, "transfer")
    t = transfer[(transfer["source"] != BASELINE_SOURCE) & (transfer["source"] != transfer["target"])]
    return _without_duplicates(
        t.dropna(subset=["accuracy"]), "transfer", "result", ["source", "target", "seed"]
    )


def selector_scores(scores: pd.DataFrame) -> pd.DataFrame:
    _check_columns(scores, "scores")
    keys = ["selector", "seed", "target", "source"]
    return _without_duplicates(scores.dropna(subset=["score"]), "scores", "score", keys)


def _without_duplicates(frame: pd.DataFrame, table: str, what: str, keys: list[str]) -> pd.DataFrame:
    """``frame``, or a :class:`DataError` naming the first row whose ``keys`` repeat an earlier row's."""
    dup = frame.duplicated(subset=keys)
    if dup.any():
        row = frame[dup].iloc[0]
        where = ", ".join(f"{k} {row[k]!r}" if isinstance(row[k], str) else f"{k} {row[k]}" for k in keys)
        raise DataError(f"{table} table: duplicate {what} for {where}")
    return frame


def paired(sel: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    """Join one selector's scores with the candidates' transfer results (see 'Candidates' above)."""
    parts = []
    for target, sel_t in sel.groupby("target", sort=True):
        cand_t = cand[cand["target"] == target]
        score_seeds = set(sel_t["seed"].tolist())
        for seed in sorted(set(cand_t["seed"].tolist())):
            if seed in score_seeds:
                use = sel_t[sel_t["seed"] == seed]
            elif len(score_seeds) == 1:
                use = sel_t
            else:
                continue
            joined = cand_t[cand_t["seed"] == seed].merge(
                use[["source", "score"]], on="source", how="inner", validate="one_to_one"
            )
            parts.append(joined)
    cols = [*TABLE_COLUMNS["transfer"], "score"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def per_target_rows(
    selector: str,
    joined: pd.DataFrame,
    regret_ks: Sequence[int],
    expected: bool,
    tied: Mapping[str, set[str]] | None = None,
) -> list[tuple[str, int, str, str, float]]:
    """Rows ``selector, seed, target, metric, value`` of one selector (``joined`` from :func:`paired`)."""
    rows = []
    for (seed, target), g in joined.groupby(["seed", "target"], sort=True):
        g = g.sort_values("source")
        acc = g["accuracy"].to_numpy(dtype=np.float64)
        best = None if tied is None else g["source"].isin(tied.get(str(target), set())).to_numpy()
        metrics = (
            random_expected_metrics(acc, regret_ks, best)
            if expected
            else ranking_metrics(g["score"].to_numpy(dtype=np.float64), acc, regret_ks, best)
        )
        rows.extend((selector, int(seed), str(target), m, float(v)) for m, v in metrics.items())
    for seed, g in joined.groupby("seed", sort=True):
        g = g.dropna(subset=["gain"])
        gain = g["gain"].to_numpy(dtype=np.float64)
        if expected:
            zero = 0.0 if gain.shape[0] >= 2 and np.ptp(gain) > 0 else float("nan")
            rho = tau = zero
        else:
            rho, tau = rank_correlations(g["score"].to_numpy(dtype=np.float64), gain)
        rows.append((selector, int(seed), POOLED, "spearman_gain_pooled", rho))
        rows.append((selector, int(seed), POOLED, "kendall_gain_pooled", tau))
    return rows
