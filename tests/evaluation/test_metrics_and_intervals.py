"""Evaluation metrics against hand-computed cases and brute-force references; bootstrap; baseline tests."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import ndcg_score

from jtask2vec.errors import DataError
from jtask2vec.evaluation import (
    POOLED,
    RANDOM_EXPECTED,
    baseline_tests,
    bootstrap_mean_ci,
    evaluate_selectors,
    expected_topk_max,
    minmax_gains,
    ndcg,
    random_expected_metrics,
    rank_correlations,
    ranking_metrics,
    regret_at_k,
    t_mean_ci,
    top1_hit,
)
from jtask2vec.results import BASELINE_SOURCE, TABLE_COLUMNS

# ---- brute-force references: average a strict-order metric over every tie-break of the scores -------------


def _tie_breaks(scores: np.ndarray) -> list[tuple[int, ...]]:
    """Every order of the items that is consistent with the scores (descending), ties in every way."""
    n = len(scores)
    return [
        p
        for p in itertools.permutations(range(n))
        if all(scores[p[i]] >= scores[p[i + 1]] for i in range(n - 1))
    ]


def _strict_dcg(order: tuple[int, ...], gains: np.ndarray, k: int) -> float:
    return sum(gains[j] / math.log2(r + 2) for r, j in enumerate(order[:k]))


def _slow(metric: str, scores, values, k: int = 1) -> float:
    s, v = np.asarray(scores, float), np.asarray(values, float)
    orders = _tie_breaks(s)
    if metric == "top1":
        return float(np.mean([v[o[0]] == v.max() for o in orders]))
    if metric == "regret":
        return float(np.mean([v.max() - max(v[list(o[:k])]) for o in orders]))
    if metric == "ndcg":
        g = (v - v.min()) / (v.max() - v.min())
        ideal = _strict_dcg(tuple(np.argsort(-g, kind="stable")), g, k)
        return float(np.mean([_strict_dcg(o, g, k) for o in orders]) / ideal)
    raise ValueError(metric)


# ---- hand-computed cases -----------------------------------------------------------------------------------


def test_hand_computed_top1_and_regret() -> None:
    scores, acc = [3, 2, 1], [0.7, 0.9, 0.8]
    assert top1_hit(scores, acc) == 0.0
    assert regret_at_k(scores, acc, 1) == pytest.approx(0.2)
    assert regret_at_k(scores, acc, 2) == pytest.approx(0.0)
    assert regret_at_k(scores, acc, 99) == pytest.approx(0.0)  # k capped at n
    assert top1_hit([1, 3, 2], acc) == 1.0


def test_hand_computed_ties() -> None:
    # tie in the outcome: choosing either of the two best is a hit
    assert top1_hit([1, 3, 2], [0.9, 0.9, 0.5]) == 1.0
    assert top1_hit([3, 1, 2], [0.9, 0.9, 0.5]) == 1.0
    # tie in the score at the top: expected over the tie-break
    assert top1_hit([1, 1, 0], [0.9, 0.8, 0.7]) == pytest.approx(0.5)
    assert regret_at_k([1, 1, 0], [0.9, 0.8, 0.7], 1) == pytest.approx(0.05)
    # a tie group straddling rank k = 2: item 0 always in, one of the three others at random
    assert expected_topk_max([2, 1, 1, 1], [0.5, 0.9, 0.6, 0.6], 2) == pytest.approx((0.9 + 0.6 + 0.6) / 3)
    assert regret_at_k([2, 1, 1, 1], [0.5, 0.9, 0.6, 0.6], 2) == pytest.approx(0.2)
    # two of the tie group at k = 3: P(0.9 among them) = 2/3, else 0.6
    assert regret_at_k([2, 1, 1, 1], [0.5, 0.9, 0.6, 0.6], 3) == pytest.approx(0.3 / 3)


def test_hand_computed_ndcg() -> None:
    acc = [0.8, 0.9, 0.85]  # min-max gains [0, 1, 0.5]
    np.testing.assert_allclose(minmax_gains(acc), [0.0, 1.0, 0.5])
    dcg = 0 / math.log2(2) + 1 / math.log2(3) + 0.5 / math.log2(4)
    idcg = 1 / math.log2(2) + 0.5 / math.log2(3)
    assert ndcg([3, 2, 1], acc) == pytest.approx(dcg / idcg)
    assert ndcg([1, 3, 2], acc) == pytest.approx(1.0)
    assert ndcg([3, 2, 1], acc, k=1) == pytest.approx(0.0)
    assert math.isnan(ndcg([3, 2, 1], [0.8, 0.8, 0.8]))  # no spread: every ranking is as good


def test_hand_computed_rank_correlations_agree_with_scipy() -> None:
    rho, tau = rank_correlations([1, 2, 3], [0.1, 0.3, 0.2])
    assert rho == pytest.approx(0.5) and tau == pytest.approx(1 / 3)
    x, y = [1, 4, 2, 3, 5], [0.2, 0.1, 0.4, 0.4, 0.9]  # ties in the accuracies only: scipy's ρ and τ-b
    rho, tau = rank_correlations(x, y)
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert tau == pytest.approx(stats.kendalltau(x, y).statistic)
    # score ties: the expectation over tie-breaks (tests/evaluation/test_rank_ties.py), 0 for constant scores
    assert rank_correlations([1, 1, 1], [0.1, 0.2, 0.3]) == (0.0, 0.0)
    assert all(math.isnan(v) for v in rank_correlations([1, 2, 3], [0.5, 0.5, 0.5]))
    assert all(math.isnan(v) for v in rank_correlations([1], [0.5]))


# ---- against brute force, ties everywhere ---------------------------------------------------------------


@pytest.mark.parametrize("case", range(40))
def test_tie_aware_metrics_match_brute_force(case: int) -> None:
    rng = np.random.default_rng(case)
    n = int(rng.integers(2, 7))
    scores = rng.integers(0, 3, size=n).astype(float)  # many score ties
    acc = rng.integers(0, 4, size=n) / 4  # many outcome ties
    if np.ptp(acc) == 0:
        acc[0] += 0.25
    assert top1_hit(scores, acc) == pytest.approx(_slow("top1", scores, acc))
    for k in range(1, n + 2):
        assert regret_at_k(scores, acc, k) == pytest.approx(
            _slow("regret", scores, acc, min(k, n)), abs=1e-12
        )
    for k in (None, 1, 2, 3):
        kk = n if k is None else min(k, n)
        assert ndcg(scores, acc, k) == pytest.approx(_slow("ndcg", scores, acc, kk), abs=1e-12)


def test_sklearn_ndcg_is_what_we_call() -> None:
    acc, scores = np.array([0.8, 0.9, 0.85, 0.7]), np.array([1.0, 1.0, 0.0, 2.0])
    gains = (acc - acc.min()) / np.ptp(acc)
    assert ndcg(scores, acc) == pytest.approx(ndcg_score(gains[None], scores[None], ignore_ties=False))


def test_random_expected_equals_the_mean_over_all_permutations() -> None:
    acc = np.array([0.7, 0.9, 0.9, 0.8, 0.6])
    perms = list(itertools.permutations(range(5)))
    per = [ranking_metrics(np.argsort(p).astype(float), acc, regret_ks=(1, 3)) for p in perms]
    expected = random_expected_metrics(acc, regret_ks=(1, 3))
    for metric in ["top1_hit", "regret@1", "regret@3", "ndcg", "ndcg@1", "ndcg@3", "spearman", "kendall"]:
        assert expected[metric] == pytest.approx(np.mean([m[metric] for m in per]), abs=1e-12), metric
    assert expected["top1_hit"] == pytest.approx(2 / 5)  # (#best sources) / n


def test_metrics_of_fewer_than_two_sources_are_nan() -> None:
    got = ranking_metrics([1.0], [0.8])
    assert got["n_sources"] == 1
    assert all(math.isnan(v) for m, v in got.items() if m != "n_sources")


# ---- tables -----------------------------------------------------------------------------------------------


def _transfer(quality: dict[str, float], targets, seeds, noise=0.0, seed=0) -> pd.DataFrame:
    """Accuracy = baseline + quality[source] (+ noise); each target also has a (better!) baseline row."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in seeds:
        for t in targets:
            base = 0.8
            rows.append((BASELINE_SOURCE, t, s, 0.99, 0.99, 0.99, 0.0))  # never a candidate
            rows.append((t, t, s, 1.0, 1.0, 1.0, 0.2))  # self-transfer: never a candidate
            for src, q in quality.items():
                if src == t:
                    continue
                acc = base + q + noise * rng.normal()
                rows.append((src, t, s, acc, acc, acc, acc - base))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["transfer"])


def _scores(selector: str, score: dict[str, float], targets, seeds) -> pd.DataFrame:
    rows = [(selector, s, t, src, v) for s in seeds for t in targets for src, v in score.items() if src != t]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["scores"])


QUALITY = {"a": 0.05, "b": 0.02, "c": -0.01, "d": 0.0}


def test_evaluate_perfect_and_reversed_selectors() -> None:
    targets, seeds = ["t1", "t2"], [0, 1, 2]
    transfer = _transfer(QUALITY, targets, seeds)
    scores = pd.concat(
        [
            _scores("perfect", QUALITY, targets, seeds),
            _scores("reversed", {k: -v for k, v in QUALITY.items()}, targets, seeds),
            _scores("datasize", {"a": 1.0, "b": 1.0, "c": 5.0, "d": 5.0}, targets, [0]),  # seed-independent
        ]
    )
    evaluation, per_target = evaluate_selectors(scores, transfer, bootstrap_samples=200)
    assert list(per_target.columns) == TABLE_COLUMNS["per_target"]
    assert list(evaluation.columns)[:7] == TABLE_COLUMNS["evaluation"]
    ev = evaluation.set_index(["selector", "metric"])
    perfect = ev.loc["perfect"]
    assert perfect.loc["top1_hit", "mean"] == 1.0
    assert perfect.loc["regret@1", "mean"] == pytest.approx(0.0)
    assert perfect.loc["ndcg", "mean"] == pytest.approx(1.0)
    assert perfect.loc["spearman", "mean"] == pytest.approx(1.0)
    # pooled over targets the perfect scores tie where the gains tie; a random tie-break of the scores
    # orders what the gains cannot, so the expected ρ is just below 1 (the tie rule)
    assert 0.95 < perfect.loc["spearman_gain_pooled", "mean"] < 1.0
    assert perfect.loc["n_sources", "mean"] == 4
    assert perfect.loc["top1_hit", "n_targets"] == 2 and perfect.loc["top1_hit", "n_seeds"] == 3
    reversed_ = ev.loc["reversed"]
    assert reversed_.loc["top1_hit", "mean"] == 0.0
    assert reversed_.loc["regret@1", "mean"] == pytest.approx(0.06)
    assert reversed_.loc["regret@3", "mean"] == pytest.approx(0.03)  # top 3 = d, c, b
    assert reversed_.loc["kendall", "mean"] == pytest.approx(-1.0)
    # datasize: c, d tied at the top (worst two) -> hit 0; regret@1 = 0.05 - mean(-0.01, 0) = 0.055
    ds = ev.loc["datasize"]
    assert ds.loc["top1_hit", "n_seeds"] == 3  # broadcast to every transfer seed
    assert ds.loc["regret@1", "mean"] == pytest.approx(0.055)
    # the random reference: exactly 1/4 hits, expected regret@1 = 0.05 - mean(quality)
    rnd = ev.loc[RANDOM_EXPECTED]
    assert rnd.loc["top1_hit", "mean"] == pytest.approx(0.25)
    assert rnd.loc["regret@1", "mean"] == pytest.approx(0.05 - np.mean(list(QUALITY.values())))
    assert rnd.loc["spearman", "mean"] == 0.0
    # per_target agrees with ranking_metrics on one (target, seed)
    one = per_target[
        (per_target.selector == "perfect") & (per_target.seed == 1) & (per_target.target == "t1")
    ]
    acc = [0.8 + q for q in QUALITY.values()]
    tied = [s == max(QUALITY, key=QUALITY.get) for s in QUALITY]  # constant over seeds: only the best
    direct = ranking_metrics(list(QUALITY.values()), acc, tied_best=tied)
    assert dict(zip(one.metric, one.value, strict=True)) == pytest.approx(direct)
    assert set(per_target.loc[per_target.metric.str.endswith("_pooled"), "target"]) == {POOLED}


def test_nan_metrics_are_skipped_and_counted() -> None:
    transfer = _transfer({"a": 0.05, "b": 0.0}, ["a", "t"], [0, 1])  # target "a" has one candidate
    scores = _scores("sel", {"a": 1.0, "b": 0.0}, ["a", "t"], [0, 1])
    evaluation, _ = evaluate_selectors(scores, transfer, bootstrap_samples=100)
    row = evaluation.set_index(["selector", "metric"]).loc[("sel", "top1_hit")]
    assert row["mean"] == 1.0 and row["n_values"] == 2 and row["n_nan"] == 2 and row["n_targets"] == 1


def test_bad_tables_raise_data_error() -> None:
    transfer = _transfer(QUALITY, ["t"], [0])
    scores = _scores("sel", QUALITY, ["t"], [0])
    with pytest.raises(DataError, match="duplicate score for selector 'sel', seed 0, target 't', source 'a'"):
        evaluate_selectors(pd.concat([scores, scores]), transfer)
    with pytest.raises(DataError, match="duplicate result for source 'a', target 't', seed 0"):
        evaluate_selectors(scores, pd.concat([transfer, transfer]))
    with pytest.raises(DataError, match="missing columns"):
        evaluate_selectors(scores.drop(columns="score"), transfer)


# ---- bootstrap -------------------------------------------------------------------------------------------


def _slow_bootstrap(values: np.ndarray, b: int, confidence: float, seed: int, resample_targets: bool):
    """Explicit resampling, the same random draws as the fast path."""
    rng = np.random.default_rng(seed)
    n_s, n_t = values.shape
    rs = rng.integers(0, n_s, size=(b, n_s))
    rt = rng.integers(0, n_t, size=(b, n_t)) if resample_targets else np.tile(np.arange(n_t), (b, 1))
    stat = []
    for i in range(b):
        sub = values[rs[i]][:, rt[i]]
        if (~np.isnan(sub)).any():
            stat.append(np.nanmean(sub))
    alpha = 1 - confidence
    return np.nanmean(values), *np.quantile(stat, [alpha / 2, 1 - alpha / 2])


@pytest.mark.parametrize("resample_targets", [False, True])
def test_bootstrap_matches_explicit_resampling(resample_targets: bool) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(4, 5))
    values[1, 2] = values[3, 0] = np.nan
    fast = bootstrap_mean_ci(values, bootstrap_samples=300, seed=3, resample_targets=resample_targets)
    slow = _slow_bootstrap(values, 300, 0.95, 3, resample_targets)
    assert fast == pytest.approx(slow, abs=1e-12)


def test_bootstrap_ci_contains_the_mean_and_shrinks_with_more_seeds() -> None:
    rng = np.random.default_rng(1)
    widths = []
    for n_seeds in (8, 32, 128):  # large enough for the bootstrap's asymptotics (see evaluation.py)
        w = []
        for _ in range(20):  # average over replications: one small draw can be tight by chance
            values = 0.5 + 0.1 * rng.normal(size=(n_seeds, 4))
            mean, low, high = bootstrap_mean_ci(values, bootstrap_samples=500, seed=int(rng.integers(1000)))
            assert mean == pytest.approx(values.mean())
            assert low <= mean <= high
            w.append(high - low)
        widths.append(np.mean(w))
    assert widths[0] > 1.5 * widths[1] and widths[1] > 1.5 * widths[2]  # ~ 1/sqrt(n_seeds): halves per 4x


def test_bootstrap_with_one_seed_has_no_ci_unless_targets_are_resampled() -> None:
    values = np.array([[0.1, 0.4, 0.3]])
    mean, low, high = bootstrap_mean_ci(values)
    assert mean == pytest.approx(0.8 / 3) and math.isnan(low) and math.isnan(high)
    mean, low, high = bootstrap_mean_ci(values, resample_targets=True)
    assert low <= mean <= high and high - low > 0


def test_t_interval_over_seed_means() -> None:
    values = np.array([[0.1, 0.3], [0.5, np.nan], [0.2, 0.4]])
    seed_means = np.array([0.2, 0.5, 0.3])
    mean, low, high = t_mean_ci(values, confidence=0.9)
    assert mean == pytest.approx(np.nanmean(values))
    half = stats.t.ppf(0.95, 2) * seed_means.std(ddof=1) / math.sqrt(3)
    assert (high - low) / 2 == pytest.approx(half)
    assert math.isnan(t_mean_ci(values[:1])[1])


def test_evaluation_ci_over_seeds() -> None:
    targets = ["t1", "t2", "t3"]
    transfer = _transfer(QUALITY, targets, range(6), noise=0.02, seed=4)
    scores = _scores("sel", QUALITY, targets, range(6))
    evaluation, per_target = evaluate_selectors(scores, transfer, bootstrap_samples=500)
    row = evaluation.set_index(["selector", "metric"]).loc[("sel", "spearman")]
    values = per_target[(per_target.selector == "sel") & (per_target.metric == "spearman")]["value"]
    assert row["mean"] == pytest.approx(values.mean())
    assert row["ci_low"] <= row["mean"] <= row["ci_high"] and row["ci_low"] < row["ci_high"]
    t_eval, _ = evaluate_selectors(scores, transfer, ci_method="t")
    t_row = t_eval.set_index(["selector", "metric"]).loc[("sel", "spearman")]
    assert t_row["mean"] == pytest.approx(row["mean"]) and t_row["ci_low"] < t_row["mean"] < t_row["ci_high"]
    one_seed, _ = evaluate_selectors(scores, transfer[transfer.seed == 0], bootstrap_samples=100)
    assert one_seed["ci_low"].isna().all() and (one_seed["n_seeds"] == 1).all()


# ---- baseline tests --------------------------------------------------------------------------------------


def _gain_table(gains: dict[str, list[float]], target: str = "t") -> pd.DataFrame:
    rows = []
    for seed in range(max(len(g) for g in gains.values())):
        rows.append((BASELINE_SOURCE, target, seed, 0.8, 0.8, 0.8, 0.0))
        for src, g in gains.items():
            if seed < len(g):
                rows.append((src, target, seed, 0.8 + g[seed], 0.0, 0.0, g[seed]))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["transfer"])


def test_baseline_tests_t_interval() -> None:
    table = _gain_table({"a": [0.01, 0.02, 0.03], "b": [0.0, 0.01, 0.0]})
    got = baseline_tests(table).iloc[0]
    assert got["best_source"] == "a" and got["mean_gain"] == pytest.approx(0.02)
    low, high = stats.t.interval(0.95, 2, loc=0.02, scale=0.01 / math.sqrt(3))
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high))
    assert got["beats_baseline"] in (False,) and not got["beats_baseline_adjusted"]  # low ≈ -0.0048
    p = stats.ttest_1samp([0.01, 0.02, 0.03], 0.0, alternative="greater").pvalue
    assert got["p_value"] == pytest.approx(p)
    assert got["n_seeds"] == 3 and got["n_sources"] == 2
    low_adj = 0.02 - stats.t.ppf(1 - 0.05 / 4, 2) * 0.01 / math.sqrt(3)
    assert got["ci_low_adjusted"] == pytest.approx(low_adj)


def test_baseline_tests_clear_gain_and_bootstrap() -> None:
    table = _gain_table({"a": [0.05, 0.051, 0.049, 0.05], "b": [-0.1, -0.1, -0.1, -0.1]})
    got = baseline_tests(table).iloc[0]
    assert got["beats_baseline"] in (True,) and got["beats_baseline_adjusted"] in (True,)
    boot = baseline_tests(table, method="bootstrap", bootstrap_samples=500).iloc[0]
    assert boot["ci_low"] <= boot["mean_gain"] <= boot["ci_high"] and boot["beats_baseline"] in (True,)


def test_baseline_tests_one_seed_cannot_be_judged() -> None:
    got = baseline_tests(_gain_table({"a": [0.05], "b": [0.01]})).iloc[0]
    assert got["best_source"] == "a" and got["mean_gain"] == pytest.approx(0.05)
    assert math.isnan(got["ci_low"]) and got["beats_baseline"] is None
    assert list(baseline_tests(_gain_table({"a": [0.05]})).columns)[:6] == TABLE_COLUMNS["baseline_tests"]


def test_self_scores_and_baseline_rows_are_never_candidates() -> None:
    targets = ["a", "b"]
    transfer = _transfer(QUALITY, targets, [0, 1])  # includes self-transfer and (better) baseline rows
    scores = _scores("sel", QUALITY, targets, [0, 1])
    extra = pd.DataFrame(
        [("sel", s, t, src, 99.0) for s in (0, 1) for t in targets for src in (t, BASELINE_SOURCE)],
        columns=TABLE_COLUMNS["scores"],
    )
    evaluation, _ = evaluate_selectors(pd.concat([scores, extra]), transfer, bootstrap_samples=100)
    ev = evaluation.set_index(["selector", "metric"]).loc["sel"]
    assert ev.loc["top1_hit", "mean"] == 1.0 and ev.loc["n_sources", "mean"] == 3
