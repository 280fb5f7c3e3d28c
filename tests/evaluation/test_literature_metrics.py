"""The literature's metrics (relative regret, exponential-gain NDCG, ROBS, TROR), the tie-aware top-1 against
statistically tied sources, the hierarchical bootstrap, Holm's correction and paired comparisons — against
hand cases and brute force over every tie-break."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from jtask2vec.evaluation import (
    evaluate_selectors,
    hierarchical_bootstrap_ci,
    holm,
    ndcg,
    paired_comparisons,
    rank_of_best,
    relative_regret_at_k,
    tied_with_best,
    true_rank_of_top,
)
from jtask2vec.results import BASELINE_SOURCE


def _orders(scores):
    n = len(scores)
    return [
        p
        for p in itertools.permutations(range(n))
        if all(scores[p[i]] >= scores[p[i + 1]] for i in range(n - 1))
    ]


def _brute(metric, scores, acc, k=1):
    s, v = np.asarray(scores, float), np.asarray(acc, float)
    orders = _orders(s)
    best = v.max()
    if metric == "robs":
        return float(np.mean([next(r for r, j in enumerate(o, 1) if v[j] == best) for o in orders]))
    if metric == "tror":
        return float(np.mean([1 + sum(v > v[o[0]]) for o in orders]))
    if metric == "regret_rel":
        return float(np.mean([(best - max(v[list(o[:k])])) / best * 100 for o in orders]))
    if metric == "ndcg_exp":
        g = 2.0 ** (100 * v) - 1
        dcg = lambda o: sum(g[j] / math.log2(r + 2) for r, j in enumerate(o[:k]))  # noqa: E731
        ideal = dcg(tuple(np.argsort(-g, kind="stable")))
        return float(np.mean([dcg(o) for o in orders]) / ideal)
    raise ValueError(metric)


def test_hand_cases():
    acc = [0.70, 0.90, 0.80, 0.85]
    scores = [4.0, 3.0, 2.0, 1.0]  # top pick is the worst source; the best is ranked 2nd
    assert rank_of_best(scores, acc) == 2.0
    assert true_rank_of_top(scores, acc) == 4.0
    assert relative_regret_at_k(scores, acc, 1) == pytest.approx((0.90 - 0.70) / 0.90 * 100)
    assert relative_regret_at_k(scores, acc, 2) == pytest.approx(0.0)
    # all scores tied: 4 sources, 1 best -> first best at (4 + 1) / (1 + 1) = 2.5; mean true rank 2.5
    assert rank_of_best([0, 0, 0, 0], acc) == 2.5
    assert true_rank_of_top([0, 0, 0, 0], acc) == 2.5
    # exponential gain, by hand: gains 2^70-1, 2^90-1, 2^80-1, 2^85-1
    g = [2.0**70 - 1, 2.0**90 - 1, 2.0**80 - 1, 2.0**85 - 1]
    dcg = sum(gi / math.log2(r + 2) for r, gi in enumerate(g))
    ideal = sum(gi / math.log2(r + 2) for r, gi in enumerate(sorted(g, reverse=True)))
    assert ndcg(scores, acc, gain="exp") == pytest.approx(dcg / ideal, rel=1e-12)


@pytest.mark.parametrize("case", range(30))
def test_new_metrics_match_brute_force(case):
    rng = np.random.default_rng(100 + case)
    n = int(rng.integers(2, 7))
    scores = rng.integers(0, 3, size=n).astype(float)
    acc = 0.6 + rng.integers(0, 4, size=n) / 20
    for metric, fn in (("robs", rank_of_best), ("tror", true_rank_of_top)):
        assert fn(scores, acc) == pytest.approx(_brute(metric, scores, acc), abs=1e-12), metric
    for k in (1, 2, 3):
        kk = min(k, n)
        assert relative_regret_at_k(scores, acc, k) == pytest.approx(
            _brute("regret_rel", scores, acc, kk), abs=1e-9
        )
        assert ndcg(scores, acc, k, gain="exp") == pytest.approx(
            _brute("ndcg_exp", scores, acc, kk), rel=1e-9
        )


def test_holm_matches_step_down_definition():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.uniform(0, 0.2, size=int(rng.integers(1, 8)))
        adjusted = holm(p)
        order = np.argsort(p)
        m = len(p)
        for alpha in (0.01, 0.05, 0.1):
            reject = np.zeros(m, dtype=bool)
            for j, i in enumerate(order):  # step down: stop at the first non-rejection
                if p[i] > alpha / (m - j):
                    break
                reject[i] = True
            np.testing.assert_array_equal(adjusted <= alpha, reject)
    assert holm([0.01, float("nan"), 0.04]).tolist()[0] == pytest.approx(0.02)


def test_hierarchical_bootstrap_matches_explicit_resampling():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(3, 4))
    v[0, 1] = np.nan
    mean, low, high = hierarchical_bootstrap_ci(v, bootstrap_samples=300, seed=7)
    # explicit loops with the same random stream
    r = np.random.default_rng(7)
    targets = r.integers(0, 4, size=(300, 4))
    seeds = r.integers(0, 3, size=(300, 4, 3))
    stats = []
    for b in range(300):
        vals = [v[seeds[b, t, s], targets[b, t]] for t in range(4) for s in range(3)]
        vals = [x for x in vals if not np.isnan(x)]
        stats.append(sum(vals) / len(vals))
    assert mean == pytest.approx(np.nanmean(v))
    assert (low, high) == pytest.approx(tuple(np.quantile(stats, [0.025, 0.975])))


def _transfer(acc: dict[tuple[str, str, int], float]) -> pd.DataFrame:
    rows = [(s, t, seed, a, a, a, a - 0.5) for (s, t, seed), a in acc.items()]
    rows += [
        (BASELINE_SOURCE, t, seed, 0.5, 0.5, 0.5, 0.0)
        for t in {k[1] for k in acc}
        for seed in {k[2] for k in acc}
    ]
    return pd.DataFrame(
        rows, columns=["source", "target", "seed", "accuracy", "macro_f1", "balanced_accuracy", "gain"]
    )


def test_tied_with_best_paired_t_over_seeds():
    acc = {}
    for seed in range(4):
        acc[("a", "t", seed)] = 0.90 + 0.001 * seed
        acc[("b", "t", seed)] = 0.80 + 0.001 * seed + 0.002 * (seed % 2)  # clearly worse, paired
        acc[("c", "t", seed)] = 0.90 + (0.01 if seed % 2 else -0.008)  # within noise of a
    summary, tied = tied_with_best(_transfer(acc))
    assert tied["t"] == {"a", "c"}
    row = summary.iloc[0]
    assert (row.best_source, row.n_sources, row.n_tied, bool(row.separable)) == (
        "c" if False else "a",
        3,
        2,
        True,
    )
    # all within noise: the grid cannot separate the sources
    noisy = {k: (0.9 + (0.01 if (k[2] + ord(k[0])) % 2 else -0.01)) for k in acc}
    summary, _ = tied_with_best(_transfer(noisy))
    assert not bool(summary.iloc[0].separable)
    # one seed: only exact ties count
    one = {k: v for k, v in acc.items() if k[2] == 0}
    one[("b", "t", 0)] = one[("a", "t", 0)]
    _, tied = tied_with_best(_transfer(one))
    assert tied["t"] == {"a", "b"}


def test_top1_tied_hit_in_evaluation():
    acc = {}
    for seed in range(3):
        for t in ("t1", "t2"):
            acc[("a", t, seed)] = 0.90 + 0.004 * (seed == 1)
            acc[("b", t, seed)] = 0.90 + 0.004 * (seed == 2)  # tied with a over seeds
            acc[("c", t, seed)] = 0.70  # clearly worse
    transfer = _transfer(acc)
    scores = pd.DataFrame(
        [
            ("pick_b", seed, t, s, {"a": 0.0, "b": 1.0, "c": 0.5}[s])
            for seed in range(3)
            for t in ("t1", "t2")
            for s in "abc"
        ],
        columns=["selector", "seed", "target", "source", "score"],
    )
    ev, _ = evaluate_selectors(scores, transfer, bootstrap_samples=100)
    ev = ev.set_index(["selector", "metric"])["mean"]
    assert ev[("pick_b", "top1_tied_hit")] == 1.0  # b is statistically tied with the best
    # by the raw numbers b is best on seeds 0 (tied with a) and 2, not on seed 1
    assert ev[("pick_b", "top1_hit")] == pytest.approx(2 / 3)
    assert ev[("random:expected", "top1_tied_hit")] == pytest.approx(2 / 3)
    assert ev[("pick_b", "robs")] == pytest.approx((1 + 3 + 1) / 3)  # ranking b, c, a


def test_paired_comparisons_verdicts_and_holm():
    rng = np.random.default_rng(3)
    rows = []
    for seed in range(3):
        for t in range(8):
            base = rng.normal()
            rows.append(("A", seed, f"t{t}", "top1_hit", base + 0.5 + 0.05 * rng.normal()))
            rows.append(("B", seed, f"t{t}", "top1_hit", base))
            rows.append(("C", seed, f"t{t}", "top1_hit", base + 0.05 * rng.normal()))
            rows.append(("A", seed, f"t{t}", "regret@1", base))
            rows.append(("B", seed, f"t{t}", "regret@1", base + 0.3 + 0.05 * rng.normal()))
    per_target = pd.DataFrame(rows, columns=["selector", "seed", "target", "metric", "value"])
    table = paired_comparisons(per_target, [("A", "B"), ("C", "B")], ["top1_hit", "regret@1"]).set_index(
        ["metric", "selector_a", "selector_b"]
    )
    assert table.loc[("top1_hit", "A", "B"), "verdict"] == "A better"
    assert table.loc[("regret@1", "A", "B"), "verdict"] == "A better"  # lower regret is better
    assert table.loc[("top1_hit", "C", "B"), "verdict"] == "not distinguishable"
    row = table.loc[("top1_hit", "A", "B")]
    assert row.unit == "target" and row.n_units == 8
    wide = per_target[per_target.metric == "top1_hit"].pivot_table(
        index=["seed", "target"], columns="selector", values="value"
    )
    units = (wide["A"] - wide["B"]).groupby("target").mean()
    from scipy import stats

    assert row.mean_diff == pytest.approx(units.mean())
    assert row.p_value == pytest.approx(stats.ttest_1samp(units, 0).pvalue)
    assert table["p_holm"].tolist() == pytest.approx(holm(table["p_value"].to_numpy()).tolist(), nan_ok=True)


def test_tied_with_best_follows_the_one_sided_paired_t_definition():
    from scipy import stats

    rng = np.random.default_rng(5)
    for case in range(20):
        acc = {
            (s, "t", seed): 0.8 + 0.01 * rng.normal() + 0.004 * i
            for i, s in enumerate("abcdef")
            for seed in range(4)
        }
        _, tied = tied_with_best(_transfer(acc), confidence=0.9)
        means = {s: np.mean([acc[(s, "t", k)] for k in range(4)]) for s in "abcdef"}
        best = max(means, key=means.get)
        expected = {best} | {
            s
            for s in "abcdef"
            if s != best
            and stats.ttest_rel(
                [acc[(best, "t", k)] for k in range(4)],
                [acc[(s, "t", k)] for k in range(4)],
                alternative="greater",
            ).pvalue
            >= 0.1
        }
        assert tied["t"] == expected, case


def test_intervals_of_bounded_metrics_are_clipped_to_their_range() -> None:
    """Right in seeds 0 and 1, reversed in seed 2: the t intervals of top-1 and Spearman reach past their
    bounds and are clipped to them; an interval inside its range is the plain t interval."""
    from scipy import stats

    quality = {"a": 0.06, "b": 0.03, "c": 0.0}
    rows, scores = [], []
    for seed in (0, 1, 2):
        for src, q in quality.items():
            rows.append((src, "t", seed, 0.8 + q, 0.8 + q, 0.8 + q, q))
            scores.append(("sel", seed, "t", src, q if seed < 2 else -q))
    transfer = pd.DataFrame(
        rows, columns=["source", "target", "seed", "accuracy", "macro_f1", "balanced_accuracy", "gain"]
    )
    scores_df = pd.DataFrame(scores, columns=["selector", "seed", "target", "source", "score"])
    evaluation, _ = evaluate_selectors(scores_df, transfer, random_reference=False)
    ev = evaluation.set_index("metric")

    def t_interval(values: list[float]) -> tuple[float, float]:
        v = np.asarray(values)
        half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
        return v.mean() - half, v.mean() + half

    assert t_interval([1, 1, 0])[0] < 0 and t_interval([1, 1, 0])[1] > 1  # about [-0.77, 2.10]
    assert (ev.at["top1_hit", "ci_low"], ev.at["top1_hit", "ci_high"]) == (0.0, 1.0)
    assert (ev.at["spearman", "ci_low"], ev.at["spearman", "ci_high"]) == (-1.0, 1.0)
    low, high = t_interval([0.0, 0.0, 0.06])  # regret@1: the low end clipped at 0, the high end kept
    assert low < 0 and ev.at["regret@1", "ci_low"] == 0.0
    assert ev.at["regret@1", "ci_high"] == pytest.approx(high, abs=1e-12)
    assert ev.at["regret@1", "mean"] == pytest.approx(0.02, abs=1e-12)
