"""The report at zoo scale: clustered heatmaps, task kinds, top-3 sources, Table 4 in full, findings, and
the comparison of two runs — each against a slow, obviously-correct reference."""

from __future__ import annotations

import itertools
import math
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist, squareform
from test_report import cell, find_table, make_results, make_suite

from jtask2vec.config import TaskSpec
from jtask2vec.report import write_report
from jtask2vec.report.clustering import cluster_order, reorder
from jtask2vec.report.compare import compare_runs, write_comparison
from jtask2vec.report.data import collect
from jtask2vec.report.format import fmt_interval
from jtask2vec.report.kinds import kind_separation, per_kind_distances
from jtask2vec.report.rankings import top_sources, transfer_long
from jtask2vec.report.render import to_markdown
from jtask2vec.results import BASELINE_SOURCE, RunResults

# ---- clustering ----------------------------------------------------------------------------------------


def test_cluster_order_is_scipys_leaf_order() -> None:
    rng = np.random.default_rng(3)
    points = np.concatenate([rng.normal(c, 0.3, size=(3, 2)) for c in (0.0, 5.0, 10.0)])
    points = points[rng.permutation(len(points))]
    names = [f"t{i}" for i in range(len(points))]
    matrix = pd.DataFrame(squareform(pdist(points)), index=names, columns=names)
    expected = [names[i] for i in leaves_list(linkage(pdist(points), method="average"))]
    assert cluster_order(matrix) == expected
    assert expected != names  # the known matrix is not already in leaf order
    shuffled = reorder(matrix.assign(extra=0.0), expected)
    assert list(shuffled.index) == expected and list(shuffled.columns) == ["extra", *expected]


def test_report_data_clusters_on_the_dendrogram_distance() -> None:
    results = make_results()
    data = collect(results)
    assert data.cluster_distance == "normalized-cosine"
    dist = results.distances[results.distances["distance"] == "normalized-cosine"]
    mean = dist.groupby(["a", "b"])["value"].mean().unstack().reindex(index=data.order, columns=data.order)
    d = mean.fillna(0.0).to_numpy()
    d = (d + d.T) / 2
    expected = [data.order[i] for i in leaves_list(linkage(squareform(d, checks=False), method="average"))]
    assert data.clustered == expected


# ---- task kinds ----------------------------------------------------------------------------------------


def _slow_separation(d: pd.DataFrame, kinds: dict[str, str]) -> tuple[float, float, float]:
    """(within, across, exact p) with plain loops over pairs and over every permutation of the labels."""
    tasks = list(d.index)

    def stat(labels: dict[str, str]) -> tuple[float, float]:
        within, across = [], []
        for a in tasks:
            for b in tasks:
                if a == b or math.isnan(d.at[a, b]):
                    continue
                (within if labels[a] == labels[b] else across).append(d.at[a, b])
        return statistics.fmean(within), statistics.fmean(across)

    w, a = stat(kinds)
    observed = a - w
    hits = total = 0
    for perm in itertools.permutations([kinds[t] for t in tasks]):
        pw, pa = stat(dict(zip(tasks, perm, strict=True)))
        hits += (pa - pw) >= observed - 1e-12
        total += 1
    return w, a, hits / total


def test_kind_separation_matches_a_slow_reference() -> None:
    rng = np.random.default_rng(0)
    names = [f"t{i}" for i in range(6)]
    kinds = dict(zip(names, ["a", "b", "a", "c", "b", "c"], strict=True))
    values = rng.uniform(0.2, 1.0, size=(6, 6))
    values[[0, 2], [2, 0]] -= 0.15  # kind a closer together
    values[1, 3] = np.nan  # a missing distance is left out
    d = pd.DataFrame(values, index=names, columns=names)
    got = kind_separation(d, kinds)
    w, a, p = _slow_separation(d, kinds)
    assert got is not None and got.exact and got.n_permutations == 90  # 6! / (2! 2! 2!)
    assert got.within_mean == pytest.approx(w, abs=1e-12)
    assert got.across_mean == pytest.approx(a, abs=1e-12)
    assert got.p_value == pytest.approx(p, abs=1e-12)
    assert got.n_within == 6 and got.n_across == 23
    # a Monte Carlo test (fewer draws than relabellings) agrees with the exact one
    mc = kind_separation(d, kinds, n_permutations=80, seed=1)
    assert mc is not None and not mc.exact and mc.n_permutations == 80
    assert abs(mc.p_value - p) < 0.2


def test_kind_separation_detects_blocks_and_not_noise() -> None:
    names = [f"t{i}" for i in range(9)]
    kinds = {t: "abc"[i % 3] for i, t in enumerate(names)}
    block = np.array([[0.1 if kinds[a] == kinds[b] else 0.9 for b in names] for a in names])
    clear = kind_separation(pd.DataFrame(block, index=names, columns=names), kinds)
    assert clear is not None and clear.exact and clear.p_value == pytest.approx(6 / 1680)  # 3! identities
    noise = np.random.default_rng(5).uniform(size=(9, 9))
    flat = kind_separation(pd.DataFrame(noise, index=names, columns=names), kinds)
    assert flat is not None and flat.p_value > 0.05
    assert kind_separation(pd.DataFrame(block, index=names, columns=names), dict.fromkeys(names, "x")) is None


def test_per_kind_distances_match_loops() -> None:
    rng = np.random.default_rng(2)
    names = ["p", "q", "r", "s", "u"]
    kinds = {"p": "x", "q": "y", "r": "x", "s": "x", "u": "y"}
    d = pd.DataFrame(rng.uniform(size=(5, 5)), index=names, columns=names)
    table = per_kind_distances(d, kinds).set_index("kind")
    for kind in ("x", "y"):
        mine = [t for t in names if kinds[t] == kind]
        other = [t for t in names if kinds[t] != kind]
        within = statistics.fmean(d.at[a, b] for a in mine for b in mine if a != b)
        to_others = statistics.fmean(
            [d.at[a, b] for a in mine for b in other] + [d.at[b, a] for a in mine for b in other]
        )
        assert table.at[kind, "within"] == pytest.approx(within, abs=1e-12)
        assert table.at[kind, "to_others"] == pytest.approx(to_others, abs=1e-12)
        assert table.at[kind, "n_tasks"] == len(mine)


def _with_kinds(results: RunResults) -> RunResults:
    results.tasks = results.tasks.assign(kind=["review", "finance", "review"])
    return results


@pytest.mark.slow
def test_report_shows_kinds_and_tolerates_their_absence(tmp_path: Path) -> None:
    md = write_report(_with_kinds(make_results()), tmp_path / "kinds").markdown.read_text(encoding="utf-8")
    assert "Kinds: review (jrte-pn, jrte-part1†); finance (chabsa)." in md
    table = find_table(md, "distance", "across − within")
    # normalized-cosine: same kind (jrte-pn, jrte-part1) 0.3 (+0.01 on seed 1), across 0.6 (+0.01)
    assert cell(table, "normalized-cosine", "within kind (pairs)") == "0.3050 (2)"
    assert cell(table, "normalized-cosine", "across kinds (pairs)") == "0.6050 (4)"
    assert cell(table, "normalized-cosine", "across − within") == "+0.3000"
    per_kind = find_table(md, "kind", "within the kind")
    assert cell(per_kind, "finance", "within the kind") == "—"  # a single task
    plain = write_report(make_results(), tmp_path / "plain")
    text = plain.markdown.read_text(encoding="utf-8")
    assert "Task kinds: not given" in text
    saved = pd.read_csv(plain.folder / "tasks.csv")
    assert "kind" not in saved.columns  # results written before kinds existed stay readable
    again = write_report(RunResults.load(plain.folder), tmp_path / "again").markdown.read_text(
        encoding="utf-8"
    )
    assert again == text


# ---- top-3 sources and Table 4 in full -----------------------------------------------------------------


def _random_grid(n_tasks: int = 6, seeds: int = 3) -> RunResults:
    rng = np.random.default_rng(11)
    names = [f"t{i}" for i in range(n_tasks)]
    suite = make_suite().model_copy(update={"tasks": [TaskSpec(name=n, loader="x") for n in names]})
    rows = []
    for seed in range(seeds):
        for target in names:
            base = float(rng.uniform(0.5, 0.8))
            rows.append({"source": BASELINE_SOURCE, "target": target, "seed": seed, "accuracy": base})
            for source in names:
                if source != target:
                    acc = round(float(rng.uniform(0.4, 0.95)), 2)  # rounded: some ties
                    rows.append({"source": source, "target": target, "seed": seed, "accuracy": acc})
    frame = pd.DataFrame(rows)
    # a tie at the top: on t0, sources t4 and t5 transfer identically (and best) on every seed
    tie = (frame["target"] == "t0") & frame["source"].isin(["t4", "t5"])
    frame.loc[tie, "accuracy"] = 0.99
    return RunResults(suite=suite, transfer=frame)


def test_top_sources_match_a_plain_groupby() -> None:
    results = _random_grid()
    tr = results.transfer
    names = list(results.suite.task_names)
    long = transfer_long(results, names)
    top = top_sources(long)
    base = tr[tr["source"] == BASELINE_SOURCE].set_index(["target", "seed"])["accuracy"]
    cand = tr[tr["source"] != BASELINE_SOURCE].copy()
    cand["gain"] = [
        a - base[(t, s)] for a, t, s in zip(cand["accuracy"], cand["target"], cand["seed"], strict=True)
    ]
    means = cand.groupby(["target", "source"])["accuracy"].mean()
    for target in names:
        ranked = means.loc[target].sort_values(ascending=False)
        cutoff = ranked.iloc[2]
        expected = sorted(ranked[ranked >= cutoff - 1e-12].index)
        got = top[top["target"] == target]
        assert sorted(got["source"]) == expected
        for _, row in got.iterrows():
            gains = cand[(cand["target"] == target) & (cand["source"] == row["source"])]["gain"].tolist()
            half = stats.t.ppf(0.975, len(gains) - 1) * statistics.stdev(gains) / math.sqrt(len(gains))
            assert row["accuracy_mean"] == pytest.approx(ranked[row["source"]], abs=1e-12)
            assert row["gain_mean"] == pytest.approx(statistics.fmean(gains), abs=1e-12)
            assert row["gain_ci_low"] == pytest.approx(statistics.fmean(gains) - half, abs=1e-12)
            assert row["gain_ci_high"] == pytest.approx(statistics.fmean(gains) + half, abs=1e-12)
            assert row["rank"] == 1 + int((ranked > ranked[row["source"]] + 1e-12).sum())
            assert row["baseline_accuracy"] == pytest.approx(base.loc[target].mean(), abs=1e-12)
    assert len(long) == len(names) * len(names)  # every cell: no-transfer plus the other sources
    tied = top[top["target"] == "t0"].set_index("source")["rank"]
    assert tied["t4"] == tied["t5"] == 1 and sorted(tied)[2] == 3  # ties share the smaller rank


def test_report_has_top3_table_and_table4_in_full(tmp_path: Path) -> None:
    results = make_results()
    paths = write_report(results, tmp_path / "top3")
    md = paths.markdown.read_text(encoding="utf-8")
    top = find_table(md, "target", "gain [CI]")
    # chabsa: jrte-pn 0.80/0.84 vs baseline 0.70/0.72 -> gains 0.10, 0.12 -> 0.11 ± t(0.975, 1)·0.01414/√2
    half = stats.t.ppf(0.975, 1) * statistics.stdev([0.10, 0.12]) / math.sqrt(2)
    row = next(r for r in top[1:] if r[0] == "chabsa")
    assert row[1:] == [
        "0.710",
        "1",
        "jrte-pn",
        "0.820 ± 0.028",
        fmt_interval(0.11, 0.11 - half, 0.11 + half, signed=True),
    ]
    full = pd.read_csv(paths.tables["table4_full"])
    assert len(full) == 9 and set(full.columns) >= {"gain_ci_low", "rank", "accuracy_std"}
    assert "table4_full.csv" in md


# ---- comparing two runs --------------------------------------------------------------------------------


def _run(
    name: str,
    spearman: dict[str, list[float]],
    top1: dict[str, float],
    beats: list[bool],
    targets: str = "xyz",
) -> RunResults:
    """A hand-made run: per-seed Spearman values per selector; the targets share each seed's value, plus a
    small per-target offset (0.01 · its position) when there are more than 3."""
    suite = make_suite(seeds=[0, 1, 2]).model_copy(update={"name": name})
    pt, ev = [], []
    for sel, values in spearman.items():
        for seed, v in enumerate(values):
            pt += [
                {"selector": sel, "seed": seed, "target": t, "metric": "spearman",
                 "value": v + (0.01 * i if len(targets) > 3 else 0.0)}
                for i, t in enumerate(targets)
            ]  # fmt: skip
        m, s = statistics.fmean(values), statistics.stdev(values)
        ev.append({"selector": sel, "metric": "spearman", "mean": m, "ci_low": m - s, "ci_high": m + s})
        ev.append(
            {
                "selector": sel,
                "metric": "top1_hit",
                "mean": top1[sel],
                "ci_low": top1[sel] - 0.05,
                "ci_high": top1[sel] + 0.05,
            }
        )
    tests = pd.DataFrame(
        [
            {
                "target": t,
                "best_source": "x",
                "mean_gain": 0.01,
                "ci_low": 0.0,
                "ci_high": 0.02,
                "beats_baseline": b,
            }
            for t, b in zip(targets, beats, strict=True)
        ]
    )
    return RunResults(
        suite=suite,
        evaluation=pd.DataFrame(ev).assign(n_targets=len(targets), n_seeds=3),
        per_target=pd.DataFrame(pt),
        baseline_tests=tests,
    )


FULL = _run(
    "full",
    {
        "task2vec:cosine": [0.10, 0.20, 0.15],
        "task2vec:normalized-cosine": [0.30, 0.20, 0.25],
        "random": [0.0, 0.1, -0.1],
    },
    {"task2vec:cosine": 0.3, "task2vec:normalized-cosine": 0.6, "random": 0.3},
    [False, False, False],
)
LIMITED = _run(
    "limited",
    {
        "task2vec:cosine": [0.70, 0.60, 0.65],
        "task2vec:normalized-cosine": [0.30, 0.35, 0.20],
        "random": [0.0, 0.05, 0.1],
    },
    {"task2vec:cosine": 0.8, "task2vec:normalized-cosine": 0.5, "random": 0.3},
    [True, False, False],
)


def test_comparison_of_two_hand_made_runs() -> None:
    md = to_markdown(compare_runs(FULL, LIMITED, "full size", "limited"))
    sides = find_table(md, "question", "conclusion")
    assert cell(sides, "best TASK2VEC distance on top1_hit", "full size").startswith(
        "task2vec:normalized-cosine 0.600"
    )
    assert cell(sides, "best TASK2VEC distance on top1_hit", "limited").startswith("task2vec:cosine 0.800")
    assert cell(sides, "best TASK2VEC distance on top1_hit", "conclusion") == "changed"
    assert cell(sides, "best TASK2VEC distance on spearman", "conclusion") == "changed"
    assert cell(sides, "targets whose best transfer beats no transfer", "full size") == "0 of 3"
    assert cell(sides, "targets whose best transfer beats no transfer", "limited") == "1 of 3"
    assert cell(sides, "targets whose best transfer beats no transfer", "conclusion") == "changed"
    assert cell(sides, "same-kind tasks closer", "conclusion") == "n/a"  # no kinds in either run
    top1 = find_table(md, "selector", "limited − full size over targets")  # no per-target top-1 values
    assert cell(top1, "task2vec:cosine", "limited − full size over targets") == "—"
    spearman = find_table(md.split("**spearman:", 1)[1], "selector", "limited − full size over targets")
    # +0.5 on every one of 3 targets: the exact sign-flip p is 2/2^3 = 0.25 (max-T over the selectors):
    # 3 targets cannot show it, however small the seed noise (the old Welch rule over seeds called it)
    assert (
        cell(spearman, "task2vec:cosine", "limited − full size over targets")
        == "+0.500 [+0.500, +0.500], p 0.250"
    )
    assert "**+0.500" not in md
    answer = (
        "Does similarity predict transfer better in limited than in full size? On spearman, task2vec:cosine "
        "goes from 0.150 [0.100, 0.200] to 0.650 [0.600, 0.700]: difference +0.500 [+0.500, +0.500], p 0.250 "
        "(sign-flip over 3 shared targets (exact), max-T over 2 selectors), not distinguishable over targets."
    )
    assert answer in md.replace("\\", "")
    assert "On spearman, task2vec:normalized-cosine goes from" in md  # the best distance of the other run
    same = to_markdown(compare_runs(FULL, FULL, "a", "b"))
    assert "No conclusion changes between the two runs" in same


def test_a_difference_on_every_one_of_eight_targets_is_called() -> None:
    eight = "abcdefgh"
    full = _run("full", {"task2vec:cosine": [0.10, 0.20, 0.15]}, {"task2vec:cosine": 0.3}, [False] * 8, eight)
    limited = _run(
        "limited", {"task2vec:cosine": [0.70, 0.60, 0.65]}, {"task2vec:cosine": 0.8}, [True] * 8, eight
    )
    md = to_markdown(compare_runs(full, limited, "full size", "limited")).replace("\\", "")
    assert (
        "p 0.008 (sign-flip over 8 shared targets (exact), max-T over 1 selectors), better in limited" in md
    )
    other = _run(
        "other", {"task2vec:cosine": [0.70, 0.60, 0.65]}, {"task2vec:cosine": 0.8}, [True] * 8, "ABCDEFGH"
    )
    md = to_markdown(compare_runs(full, other, "full size", "other")).replace("\\", "")
    assert "(permutation over 8 + 8 targets, Holm over 1 selectors), better in other over targets" in md


@pytest.mark.slow
def test_compare_cli_writes_the_comparison(tmp_path: Path) -> None:
    FULL.save(tmp_path / "full")
    LIMITED.save(tmp_path / "limited")
    cmd = [sys.executable, "-m", "jtask2vec", "compare", str(tmp_path / "full"), str(tmp_path / "limited")]
    done = subprocess.run([*cmd, "--out", str(tmp_path / "cmp")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "limited − full" in (tmp_path / "cmp" / "comparison.md").read_text(encoding="utf-8")
    assert (tmp_path / "cmp" / "comparison.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = subprocess.run(
        [*cmd[:4], str(tmp_path / "nowhere"), str(tmp_path / "full")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "nowhere: not a finished run folder (no results.json)" in bad.stderr
    paths = write_comparison(tmp_path / "full", tmp_path / "full", tmp_path / "self")
    assert "full (A) vs full (B)" in paths.markdown.read_text(encoding="utf-8")
