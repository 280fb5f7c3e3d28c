"""`--verify`'s verdicts: paired differences over seeds with Student-t intervals (hand-checked)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from jtask2vec.zoo.verify import NO_TRANSFER, Comparison, compare


def _runs(table: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(source, seed, acc, acc) for source, values in table.items() for seed, acc in enumerate(values)]
    return pd.DataFrame(rows, columns=["source", "seed", "accuracy", "macro_f1"])


def test_paired_differences_and_t_intervals() -> None:
    runs = _runs({NO_TRANSFER: [0.80, 0.82, 0.78], "a": [0.86, 0.85, 0.84], "b": [0.87, 0.80, 0.90]})
    first, second = compare(runs, "a", [NO_TRANSFER, "b"], confidence=0.95)
    diffs = [0.06, 0.03, 0.06]  # a - no transfer, per seed
    mean = sum(diffs) / 3
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert (first.a, first.b) == ("a", NO_TRANSFER)
    assert first.mean == pytest.approx(mean)
    assert (first.low, first.high) == pytest.approx((mean - half, mean + half))
    assert first.verdict == "beats"
    assert second.mean == pytest.approx((-0.01 + 0.05 - 0.06) / 3)
    assert second.verdict == "no clear difference with"


def test_verdicts() -> None:
    assert Comparison("a", "b", -0.1, -0.2, -0.05).verdict == "loses to"
    one_seed = Comparison("a", "b", 0.02, math.nan, math.nan)
    assert one_seed.verdict == "not enough to judge"  # one seed: no interval, no verdict
    assert "[" not in one_seed.line(0.95) and "not enough to judge" in one_seed.line(0.95)
    small_test = Comparison("a", "b", 0.2, 0.1, 0.3, judgeable=False)
    assert small_test.verdict == "not enough to judge" and "[+0.100, +0.300]" in small_test.line(0.95)
    assert "95% t-interval" in Comparison("a", "b", 0.1, 0.05, 0.15).line(0.95)
