"""Claims over targets: exact sign-flip and permutation tests against scipy and brute force, no p = 0 from a
zero variance, picking the best distance inside the test, Friedman + Nemenyi."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from jtask2vec.evaluation import claims


def test_one_column_sign_flip_is_scipys_exact_paired_permutation_test() -> None:
    rng = np.random.default_rng(1)
    for n in (3, 6, 9):
        d = rng.normal(0.1, 1.0, n)
        _, p, exact = claims.sign_flip_maxt(d)
        ref = stats.permutation_test(
            (d,), np.mean, permutation_type="samples", n_resamples=np.inf, alternative="two-sided"
        )
        assert exact
        assert p[0] == pytest.approx(ref.pvalue, abs=1e-12)


def test_maxt_p_is_the_share_of_sign_vectors_whose_largest_mean_beats_the_column() -> None:
    d = np.array([[0.3, 0.1], [0.2, -0.4], [-0.1, 0.2], [0.4, 0.3], [0.0, 0.1]])
    _, p, _ = claims.sign_flip_maxt(d)
    brute = []
    for j in range(2):
        hits = 0
        for signs in itertools.product((1, -1), repeat=5):
            flipped = np.array(signs)[:, None] * d
            hits += np.abs(flipped.mean(axis=0)).max() >= abs(d[:, j].mean()) - 1e-12
        brute.append(hits / 32)
    assert p == pytest.approx(brute)
    single = [claims.sign_flip_maxt(d[:, j])[1][0] for j in range(2)]
    assert all(pm >= ps for pm, ps in zip(p, single, strict=True))  # picking costs power, never adds it


def test_a_constant_difference_is_not_infinitely_significant() -> None:
    # the example: a selector misses top-1 on all 4 targets out of 6 candidates (chance 1/6)
    d = np.full(4, -1 / 6)
    _, p, _ = claims.sign_flip_maxt(d)
    assert p[0] == pytest.approx(2 / 16)  # the two all-same-sign vectors: not 0, not significant
    _, p0, _ = claims.sign_flip_maxt(np.zeros(5))
    assert p0[0] == 1.0
    diff, pu = claims.unpaired_permutation(np.full(3, 0.5), np.full(3, 0.5))
    assert (diff, pu) == (0.0, 1.0)
    diff, pu = claims.unpaired_permutation(np.full(3, 0.5), np.full(3, 0.6))
    assert pu == pytest.approx(2 / math.comb(6, 3))


def test_unpaired_permutation_agrees_with_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 5), rng.normal(0.8, 1, 4)
    diff, p = claims.unpaired_permutation(a, b)
    ref = stats.permutation_test(
        (b, a),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        n_resamples=np.inf,
        vectorized=True,
    )
    assert diff == pytest.approx(b.mean() - a.mean())
    assert p == pytest.approx(ref.pvalue, abs=1e-12)
    a, b = rng.normal(0, 1, 12), rng.normal(0.5, 1, 12)  # Monte Carlo: C(24, 12) > the exact limit
    _, p = claims.unpaired_permutation(a, b)
    ref = stats.permutation_test(
        (b, a),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        n_resamples=20_000,
        vectorized=True,
        rng=np.random.default_rng(0),
    )
    assert p == pytest.approx(ref.pvalue, abs=0.02)


def _per_target(values: dict[str, list[list[float]]], metric: str = "top1_hit") -> pd.DataFrame:
    """``values[selector][seed][target]`` as a long per_target table."""
    rows = []
    for sel, by_seed in values.items():
        for seed, by_target in enumerate(by_seed):
            rows += [(sel, seed, f"t{t}", metric, v) for t, v in enumerate(by_target)]
    return pd.DataFrame(rows, columns=["selector", "seed", "target", "metric", "value"])


def test_targets_are_the_unit_seeds_are_averaged_first() -> None:
    # stable over seeds but no better than chance on 4 targets: the old seed-interval rule called this
    stable = [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    pt = _per_target({"task2vec:cosine": stable, claims.RANDOM_EXPECTED: [[0.25] * 4] * 3})
    c = claims.versus_chance(claims.metric_table(pt, "top1_hit"), "top1_hit")
    assert c is not None and c.n_targets == 4 and not c.called
    assert c.mean_diff == pytest.approx(0.0)
    # 11 targets, always a hit where chance is 1/4: called, p = 2 / 2^11 (exact)
    pt = _per_target({"task2vec:cosine": [[1] * 11] * 2, claims.RANDOM_EXPECTED: [[0.25] * 11] * 2})
    c = claims.versus_chance(claims.metric_table(pt, "top1_hit"), "top1_hit")
    assert c.verdict == "better" and c.p_value == pytest.approx(2 / 2**11)


def test_picking_the_best_distance_is_part_of_the_test() -> None:
    rng = np.random.default_rng(5)
    values = {f"task2vec:d{j}": [list(rng.normal(0, 1, 8))] for j in range(5)}
    values[claims.RANDOM_EXPECTED] = [[0.0] * 8]
    pt = _per_target(values, "spearman")
    wide = claims.metric_table(pt, "spearman")
    c = claims.versus_chance(wide, "spearman")
    lead = max((f"task2vec:d{j}" for j in range(5)), key=lambda s: np.mean(values[s][0]))
    assert c.subject == lead
    alone = claims.versus_chance(wide, "spearman", distances=[lead])
    assert c.p_value > alone.p_value  # the pick is paid for


def test_runs_are_paired_on_shared_targets_else_unpaired() -> None:
    a = _per_target({"task2vec:x": [[0.1, 0.2, 0.3, 0.4, 0.5]]}, "spearman")
    b = _per_target({"task2vec:x": [[0.3, 0.5, 0.4, 0.6, 0.8]]}, "spearman")
    wa, wb = claims.metric_table(a, "spearman"), claims.metric_table(b, "spearman")
    (paired,) = claims.runs_difference(wa, wb, "spearman", ["task2vec:x"])
    assert paired.claim.endswith("(paired)") and paired.p_value == pytest.approx(2 / 32)
    other = b.assign(target="u" + b["target"])
    (unpaired,) = claims.runs_difference(
        wa, claims.metric_table(other, "spearman"), "spearman", ["task2vec:x"]
    )
    assert unpaired.claim.endswith("(unpaired)") and unpaired.n_targets == 5


def test_friedman_and_nemenyi_match_scipy_and_demsar() -> None:
    rng = np.random.default_rng(7)
    values = {s: [list(rng.normal(mu, 0.1, 14))] for s, mu in zip("abcd", (0.0, 0.1, 0.5, 0.9), strict=True)}
    pt = _per_target(values, "spearman")
    f = claims.friedman_nemenyi(claims.metric_table(pt, "spearman"), "spearman", list("abcd"))
    ref = stats.friedmanchisquare(*[values[s][0] for s in "abcd"])
    assert f.p_value == pytest.approx(ref.pvalue)
    # Demšar (2006), Table 5: q_0.05 = 2.569 for 4 classifiers; CD = q √(k(k+1)/6N)
    assert f.critical_difference == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 14)), abs=1e-3)
    assert f.mean_ranks["d"] == pytest.approx(1.0)  # higher is better: the largest values rank first
    assert ("d", "a") in f.differences


def _grid(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """Transfer rows (source, target, seed, accuracy), the no-transfer baseline at 0.80."""
    from jtask2vec.results import BASELINE_SOURCE, TABLE_COLUMNS

    out = [(s, t, k, a, a, a, a - 0.80) for s, t, k, a in rows]
    out += [(BASELINE_SOURCE, t, k, 0.80, 0.80, 0.80, 0.0) for t, k in {(t, k) for _, t, k, _ in rows}]
    return pd.DataFrame(out, columns=TABLE_COLUMNS["transfer"])


def test_zero_variance_never_gives_p_zero_in_the_older_tests() -> None:
    """The issue's examples: one source gets exactly one more test example right (of 100) on both of 2
    seeds; a selector misses top-1 on all 4 targets where chance is 1/6."""
    from jtask2vec.evaluation import baseline_tests, paired_comparisons, tied_with_best

    grid = _grid([(s, "t", k, a) for k in (0, 1) for s, a in (("x", 0.81), ("y", 0.80))])
    tests = baseline_tests(grid).set_index("target")
    assert tests.at["t", "p_value"] == pytest.approx(0.25)  # 1/2^2, not 0
    assert not tests.at["t", "beats_baseline"] and not tests.at["t", "beats_baseline_adjusted"]
    _, tied = tied_with_best(grid)
    assert tied["t"] == {"x", "y"}  # one example on 2 seeds does not separate them
    pt = pd.DataFrame(
        [("A", 0, f"t{i}", "top1_hit", 0.0) for i in range(4)]
        + [("random:expected", 0, f"t{i}", "top1_hit", 1 / 6) for i in range(4)],
        columns=["selector", "seed", "target", "metric", "value"],
    )
    row = paired_comparisons(pt, [("A", "random:expected")], ["top1_hit"]).iloc[0]
    assert row.p_value == pytest.approx(2 / 16) and row.verdict == "not distinguishable"
