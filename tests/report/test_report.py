"""The report: Tables 2-4 in the study's layout, evaluation with intervals, a verdict that quotes the data,
a self-contained HTML page, CSVs beside it, and graceful handling of missing pieces."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jtask2vec.config import Suite, TaskSpec, dump_suite
from jtask2vec.report import ReportPaths, write_report
from jtask2vec.report.data import collect
from jtask2vec.report.format import fmt, fmt_interval, fmt_mean_std
from jtask2vec.report.render import Cell, Table, markdown_table
from jtask2vec.report.tables import metric_order, selector_order
from jtask2vec.results import BASELINE_SOURCE, RunResults

TASKS = ["jrte-pn", "chabsa", "jrte-part1"]
SEEDS = [0, 1]

# Transfer accuracy per (target, source) for seeds 0 and 1; BASELINE_SOURCE is the no-transfer fine-tune.
TRANSFER_ACC = {
    ("jrte-pn", BASELINE_SOURCE): (0.80, 0.82),
    ("jrte-pn", "chabsa"): (0.81, 0.85),
    ("jrte-pn", "jrte-part1"): (0.86, 0.88),
    ("chabsa", BASELINE_SOURCE): (0.70, 0.72),
    ("chabsa", "jrte-pn"): (0.80, 0.84),  # hand-checked cell: 0.820 ± 0.028
    ("chabsa", "jrte-part1"): (0.69, 0.70),
    ("jrte-part1", BASELINE_SOURCE): (0.90, 0.91),
    ("jrte-part1", "jrte-pn"): (0.92, 0.90),
    ("jrte-part1", "chabsa"): (0.88, 0.89),
}
# Raw cosine distance (1 - cosine similarity), stored for a < b only, per seed.
COSINE_DIST = {
    ("jrte-pn", "chabsa"): (0.0080, 0.0084),
    ("jrte-pn", "jrte-part1"): (0.0012, 0.0010),
    ("chabsa", "jrte-part1"): (0.0066, 0.0070),
}
METRICS = ["spearman", "regret@3", "ndcg", "top1", "regret@1"]  # deliberately unordered
EVAL = {  # selector -> metric -> (mean, low, high)
    "task2vec:cosine": {
        "top1": (0.667, 0.333, 1.0),
        "regret@1": (0.010, 0.0, 0.030),
        "regret@3": (0.0, 0.0, 0.0),
        "ndcg": (0.95, 0.90, 1.0),
        "spearman": (0.50, 0.0, 1.0),
    },
    "task2vec:normalized-cosine": {
        "top1": (1.0, 1.0, 1.0),
        "regret@1": (0.0, 0.0, 0.0),
        "regret@3": (0.0, 0.0, 0.0),
        "ndcg": (1.0, 1.0, 1.0),
        "spearman": (1.0, 1.0, 1.0),
    },
    "random": {
        "top1": (0.333, 0.0, 0.667),
        "regret@1": (0.060, 0.020, 0.100),
        "regret@3": (0.0, 0.0, 0.0),
        "ndcg": (0.80, 0.70, 0.90),
        "spearman": (0.0, -1.0, 1.0),
    },
    "random:expected": {
        "top1": (0.5, 0.5, 0.5),
        "regret@1": (0.050, 0.050, 0.050),
        "regret@3": (0.0, 0.0, 0.0),
        "ndcg": (0.75, 0.75, 0.75),
        "spearman": (0.0, 0.0, 0.0),
    },
    "datasize": {
        "top1": (0.333, 0.333, 0.333),
        "regret@1": (0.040, 0.040, 0.040),
        "regret@3": (0.0, 0.0, 0.0),
        "ndcg": (0.85, 0.85, 0.85),
        "spearman": (-0.5, -0.5, -0.5),
    },
}


def per_seed(pair: tuple[float, float], j: int) -> float:
    """The value of seed number ``j``: the pair for the first two seeds, then shifted copies."""
    return pair[j % 2] + 0.01 * (j // 2)


def make_suite(seeds: list[int] = SEEDS) -> Suite:
    return Suite(
        name="fake-suite",
        description="three fake tasks for the report test",
        tasks=[
            TaskSpec(name="jrte-pn", loader="jrte-pn"),
            TaskSpec(name="chabsa", loader="chabsa"),
            TaskSpec(name="jrte-part1", loader="jrte-pn", stand_in_for="rakuten.1"),
        ],
        seeds=seeds,
    )


def make_results(seeds: list[int] = SEEDS) -> RunResults:
    k = len(seeds)
    tasks = pd.DataFrame(
        [
            {
                "task": t,
                "loader": "jrte-pn" if t != "chabsa" else "chabsa",
                "stand_in_for": "rakuten.1" if t == "jrte-part1" else "",
                "n": 100 + i,
                "n_label0": 50,
                "n_label1": 50 + i,
                "label0": "neg",
                "label1": "pos",
                "train": 70,
                "dev": 10,
                "test": 20 + i,
                "data_hash": f"hash{i}abcdef",
                "source": "/home/someone/corpora/" + t + ".tsv",
                "licence": "CC BY-SA 4.0",
            }
            for i, t in enumerate(TASKS)
        ]
    )
    finetune = pd.DataFrame(
        [
            {
                "task": t,
                "seed": s,
                "accuracy": acc,
                "macro_f1": acc - 0.01,
                "balanced_accuracy": acc,
                "best_epoch": 2,
                "train_seconds": 1.5,
            }
            for t, accs in zip(TASKS, [(0.80, 0.82), (0.70, 0.72), (0.90, 0.91)], strict=True)
            for s, acc in zip(seeds, [per_seed(accs, j) for j in range(k)], strict=True)
        ]
    )
    transfer_rows = []
    for (target, source), accs in TRANSFER_ACC.items():
        base = TRANSFER_ACC[(target, BASELINE_SOURCE)]
        for j, s in enumerate(seeds):
            transfer_rows.append(
                {
                    "source": source,
                    "target": target,
                    "seed": s,
                    "accuracy": per_seed(accs, j),
                    "macro_f1": per_seed(accs, j),
                    "balanced_accuracy": per_seed(accs, j),
                    "gain": per_seed(accs, j) - per_seed(base, j),
                }
            )
    transfer = pd.DataFrame(transfer_rows)
    dist_rows = []
    for j, s in enumerate(seeds):
        for (a, b), vals in COSINE_DIST.items():
            dist_rows.append({"distance": "cosine", "seed": s, "a": a, "b": b, "value": vals[j % 2]})
        for a, b in permutations(TASKS, 2):
            base = 0.3 if {a, b} == {"jrte-pn", "jrte-part1"} else 0.6
            dist_rows.append(
                {"distance": "normalized-cosine", "seed": s, "a": a, "b": b, "value": base + 0.01 * j}
            )
            dist_rows.append(
                {
                    "distance": "asymmetric",
                    "seed": s,
                    "a": a,
                    "b": b,
                    "value": base - 0.1 + 0.02 * TASKS.index(a),
                }
            )
    distances = pd.DataFrame(dist_rows)
    score_rows = []
    for sel in ("task2vec:cosine", "task2vec:normalized-cosine", "random"):
        for s in seeds:
            for target, source in permutations(TASKS, 2):
                score_rows.append(
                    {
                        "selector": sel,
                        "seed": s,
                        "target": target,
                        "source": source,
                        "score": -TASKS.index(source) if sel == "random" else float(len(source)),
                    }
                )
    scores = pd.DataFrame(score_rows)
    evaluation = pd.DataFrame(
        [
            {
                "selector": sel,
                "metric": m,
                "mean": EVAL[sel][m][0],
                "ci_low": EVAL[sel][m][1] if k > 1 else np.nan,
                "ci_high": EVAL[sel][m][2] if k > 1 else np.nan,
                "n_targets": 3,
                "n_seeds": k,
            }
            for sel in (
                "random",
                "task2vec:cosine",
                "datasize",
                "random:expected",
                "task2vec:normalized-cosine",
            )
            for m in METRICS
        ]
        + [  # a count, not a quality metric: listed last, never highlighted
            {"selector": sel, "metric": "n_sources", "mean": 2.0, "ci_low": 2.0, "ci_high": 2.0}
            | {"n_targets": 3, "n_seeds": k}
            for sel in EVAL
        ]
    )
    per_target = pd.DataFrame(
        [
            {"selector": sel, "seed": s, "target": t, "metric": "top1", "value": 1.0}
            for sel in EVAL
            for s in seeds
            for t in TASKS
        ]
    )
    baseline_tests = pd.DataFrame(
        [
            {
                "target": "jrte-pn",
                "best_source": "jrte-part1",
                "mean_gain": 0.06,
                "ci_low": 0.05,
                "ci_high": 0.07,
                "beats_baseline": True,
            },
            {
                "target": "chabsa",
                "best_source": "jrte-pn",
                "mean_gain": 0.11,
                "ci_low": 0.10,
                "ci_high": 0.12,
                "beats_baseline": True,
            },
            {
                "target": "jrte-part1",
                "best_source": "jrte-pn",
                "mean_gain": 0.005,
                "ci_low": -0.01,
                "ci_high": 0.02,
                "beats_baseline": False,
            },
        ]
    )
    if k == 1:  # what jtask2vec.evaluation.baseline_tests gives with one seed
        baseline_tests[["ci_low", "ci_high"]] = np.nan
        baseline_tests["beats_baseline"] = None
    return RunResults(
        suite=make_suite(seeds),
        tasks=tasks,
        finetune=finetune,
        transfer=transfer,
        distances=distances,
        scores=scores,
        evaluation=evaluation,
        per_target=per_target,
        baseline_tests=baseline_tests,
        environment={
            "python": "3.12.1",
            "versions": {"torch": "2.13.0", "transformers": "5.24"},
            "wall_seconds": 3725.0,
            "data_dir": "/home/someone/data",
        },
    )


def md_tables(text: str) -> list[list[list[str]]]:
    """Every markdown table of ``text`` as rows of cells (separator row dropped, escapes and ** removed)."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("| "):
            row = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            row = [c.replace("\\", "").replace("**", "") for c in row]
            if not all(re.fullmatch(r":?-+:?", c) for c in row):
                current.append(row)
        elif current:
            tables.append(current)
            current = []
    return tables


def find_table(text: str, first_header: str, contains: str) -> list[list[str]]:
    for table in md_tables(text):
        if table[0][0] == first_header and any(contains in h for h in table[0]):
            return table
    raise AssertionError(f"no table with header {first_header!r}/{contains!r}")


def cell(table: list[list[str]], row: str, col: str) -> str:
    header = table[0]
    for r in table[1:]:
        if r[0] == row:
            return r[header.index(col)]
    raise AssertionError(f"no row {row!r}")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResults, ReportPaths, str, str]:
    results = make_results()
    paths = write_report(results, tmp_path_factory.mktemp("run") / "fake-suite")
    return results, paths, paths.markdown.read_text(encoding="utf-8"), paths.html.read_text(encoding="utf-8")


def test_every_file_is_written(report) -> None:
    _, paths, _, _ = report
    folder = paths.folder
    for name in ("report.md", "report.html", "results.json", "tasks.csv", "finetune.csv", "transfer.csv"):
        assert (folder / name).is_file(), name
    for name in ("table2_accuracy", "table3_cosine", "table4_transfer", "table4_gain"):
        assert (folder / f"{name}.csv").is_file(), name
        assert paths.tables[name] == folder / f"{name}.csv"
    for name in ("similarity_cosine", "similarity_normalized-cosine", "similarity_asymmetric"):
        assert name in paths.figures
    for name in ("dendrogram", "transfer_gain"):
        assert name in paths.figures
    for path in paths.figures.values():
        assert path.parent == folder / "figures"
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not list(folder.rglob("*.tmp"))


def test_pivot_csvs_hold_the_numbers(report) -> None:
    _, paths, _, _ = report
    t4 = pd.read_csv(paths.tables["table4_transfer"], index_col=0)
    assert list(t4.index) == TASKS  # rows: targets
    assert list(t4.columns) == [BASELINE_SOURCE, *TASKS]  # columns: the baseline, then the sources
    assert t4.at["chabsa", "jrte-pn"] == pytest.approx(0.82)
    t3 = pd.read_csv(paths.tables["table3_cosine"], index_col=0)
    assert t3.at["chabsa", "jrte-pn"] == pytest.approx(1 - 0.0082)  # mirrored from (jrte-pn, chabsa)
    assert t3.at["chabsa", "chabsa"] == pytest.approx(1.0)
    gain = pd.read_csv(paths.tables["table4_gain"], index_col=0)
    assert gain.at["chabsa", "jrte-pn"] == pytest.approx(0.11)
    t2 = pd.read_csv(paths.tables["table2_accuracy"], index_col=0)
    assert t2.at["jrte-part1", "stand_in_for"] == "rakuten.1"
    assert t2.at["chabsa", "accuracy_mean"] == pytest.approx(0.71)


def test_table2_rows_tasks_with_stand_ins_marked(report) -> None:
    _, _, md, _ = report
    t2 = find_table(md, "task", "macro-F1")
    assert [r[0] for r in t2[1:]] == ["jrte-pn", "chabsa", "jrte-part1 (stand-in for rakuten.1)"]
    # chabsa: accuracy 0.70, 0.72 -> 0.710 ± 0.014; macro-F1 0.69, 0.71 -> 0.700 ± 0.014
    assert cell(t2, "chabsa", "accuracy") == "0.710 ± 0.014"
    assert cell(t2, "chabsa", "macro-F1") == "0.700 ± 0.014"
    assert cell(t2, "chabsa", "seeds") == "2"


def test_table3_is_square_cosine_similarity_with_4_decimals(report) -> None:
    _, _, md, _ = report
    t3 = find_table(md, "task", "jrte-part1†")
    assert t3[0] == ["task", "jrte-pn", "chabsa", "jrte-part1†"]
    assert [r[0] for r in t3[1:]] == ["jrte-pn", "chabsa", "jrte-part1†"]
    # 1 - (0.0080, 0.0084) -> 0.9918 ± 0.0003 (std of the two distances: 0.000283)
    assert cell(t3, "jrte-pn", "chabsa") == "0.9918 ± 0.0003"
    assert cell(t3, "chabsa", "jrte-pn") == "0.9918 ± 0.0003"  # symmetric: mirrored
    assert cell(t3, "chabsa", "chabsa") == "1.0000"
    assert "† stand-in: jrte-part1 for rakuten.1" in md


def test_table4_rows_target_columns_source_with_baseline_column(report) -> None:
    _, _, md, _ = report
    t4 = find_table(md, "target  source", "no transfer (pretrained)")
    assert t4[0][1] == "no transfer (pretrained)"
    assert [r[0] for r in t4[1:]] == ["jrte-pn", "chabsa", "jrte-part1†"]
    # target chabsa, source jrte-pn: 0.80, 0.84 -> 0.820 ± 0.028 (hand-computed; ddof=1)
    assert cell(t4, "chabsa", "jrte-pn") == "0.820 ± 0.028"
    assert cell(t4, "chabsa", "no transfer (pretrained)") == "0.710 ± 0.014"
    assert cell(t4, "jrte-pn", "jrte-pn") == "—"  # no self-transfer in the grid
    gain = next(
        t for t in md_tables(md) if t[0][0] == "target  source" and "no transfer (pretrained)" not in t[0]
    )
    # gains 0.10, 0.12 -> +0.110 ± 0.014
    assert cell(gain, "chabsa", "jrte-pn") == "+0.110 ± 0.014"
    assert cell(gain, "chabsa", "jrte-part1†") == "-0.015 ± 0.007"


def test_evaluation_table_has_intervals_in_order_and_best_highlighted(report) -> None:
    _, _, md, html_text = report
    ev = find_table(md, "selector", "top1")
    assert [h.split(" ")[0] for h in ev[0][1:]] == [
        "top1",
        "regret@1",
        "regret@3",
        "ndcg",
        "spearman",
        "n_sources",
    ]
    assert [r[0] for r in ev[1:]] == [
        "task2vec:cosine",
        "task2vec:normalized-cosine",
        "random",
        "random:expected",
        "datasize",
    ]
    assert all(r[-1] == "2" for r in ev[1:])  # a count: its value, no interval, never highlighted
    assert "| **2** |" not in md
    assert cell(ev, "random", "regret@1 (↓)") == "0.060 [0.020, 0.100]"
    assert cell(ev, "task2vec:cosine", "top1 (↑)") == "0.667 [0.333, 1.000]"
    # best per metric is bold: normalized-cosine has top1 1.0 and regret@1 0.0
    assert "| **1.000 [1.000, 1.000]** |" in md
    assert '<td class="num best">1.000 [1.000, 1.000]</td>' in html_text


def test_verdict_numbers_come_from_the_tables(report) -> None:
    results, _, md, _ = report
    verdict = md.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    findings = md.split("## Findings", 1)[1].split("\n## ", 1)[0]
    bullets = [line for line in verdict.splitlines() if line.startswith("- ")]
    assert 3 <= len(bullets) <= 5  # short: the details are under Findings
    # raw cosine spread (a detail): the off-diagonal min/max of Table 3, to 4 decimals
    sims = {pair: 1 - np.mean(v) for pair, v in COSINE_DIST.items()}
    lo, hi = min(sims.values()), max(sims.values())
    assert f"between {fmt(lo, 4)} (jrte-pn–chabsa) and {fmt(hi, 4)} (jrte-pn–jrte-part1)" in findings
    assert "barely discriminates" in findings and "barely discriminates" not in verdict
    # the target-level answer leads, with the number of targets it rests on
    assert bullets[1].startswith("- Does the most similar source transfer best? Over 3 targets,")
    assert "not distinguishable from chance on top1" in bullets[1]
    assert "the smallest possible p is 2/2^3 = 0.250" in bullets[1]
    assert "better than chance" not in verdict
    assert "n_sources" not in verdict
    # transfer gains beyond noise: 2 of 3 targets per the baseline_tests table
    n_beat = int(results.baseline_tests["beats_baseline"].sum())
    assert f"{n_beat} of 3 targets gain from their best source beyond seed noise" in verdict
    assert "2 seeds (0, 1)" in verdict
    # every number in the verdict is in the data or derived from it (no hard-coded claims)
    allowed = _numbers_in_tables(results)
    found = collect(results).claims
    allowed |= {round(c.p_value, 3) for c in found.chance.values()} | {0.25, 2.0, 3.0}
    for number in re.findall(r"[-+]?\d+\.\d+", verdict.replace("\\", "")):
        assert float(number) in allowed or any(abs(float(number) - a) < 6e-4 for a in allowed), number


def _numbers_in_tables(results: RunResults) -> set[float]:
    """Means/stds/min/max of the tables the verdict quotes, rounded as the report prints them."""
    out: set[float] = set()
    acc = results.finetune.groupby("task")["accuracy"].mean()
    out |= {round(v, 3) for v in acc}
    sims = [1 - np.mean(v) for v in COSINE_DIST.values()]
    out |= {round(v, 4) for v in sims} | {round(max(sims) - min(sims), 4)}
    norm = results.distances[results.distances["distance"] == "normalized-cosine"]
    nsim = 1 - norm.groupby(["a", "b"])["value"].mean()
    out |= {round(v, 4) for v in nsim} | {round(nsim.max() - nsim.min(), 4)}
    out |= {round(float(v), 3) for v in results.evaluation[["mean", "ci_low", "ci_high"]].to_numpy().ravel()}
    gain = results.transfer[results.transfer["source"] != BASELINE_SOURCE].groupby(["target", "source"])[
        "gain"
    ]
    out |= {round(v, 3) for v in gain.mean()}
    out |= {
        round(float(v), 3)
        for v in results.baseline_tests[["mean_gain", "ci_low", "ci_high"]].to_numpy().ravel()
    }
    return out


def test_html_is_self_contained_and_parses(report) -> None:
    _, paths, md, html_text = report

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.refs: list[tuple[str, str, str]] = []
            self.tags: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            for name, value in attrs:
                if name in {"src", "href"}:
                    self.refs.append((tag, name, value or ""))

    parser = Collector()
    parser.feed(html_text)
    parser.close()
    assert "script" not in parser.tags and "link" not in parser.tags
    imgs = [v for t, n, v in parser.refs if t == "img"]
    assert len(imgs) == len(paths.figures) >= 5
    assert all(v.startswith("data:image/png;base64,") for v in imgs)
    assert all(v.startswith("#") for t, n, v in parser.refs if t != "img")  # only in-page links
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html_text)
    assert "<style>" in html_text
    # same content as the markdown: every table cell of the markdown appears in the HTML
    for table in md_tables(md):
        for row in table[1:]:
            for text in row:
                assert html_escape(text) in html_text, text


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_table1_puts_sources_and_licences_in_numbered_footnotes(report) -> None:
    """Long source/licence texts would widen Table 1 past the page: a footnote number in the table, the text
    once per distinct source under it."""
    _, _, md, _ = report
    t1 = find_table(md, "task", "loader")
    assert t1[0][-1] == "origin" and "licence" not in " ".join(t1[0])
    marks = [r[-1] for r in t1[1:]]
    assert marks == [f"[{i}]" for i in range(1, len(marks) + 1)]  # each fake task has its own file
    section = md.split("## Tasks and data", 1)[1].split("\n## ", 1)[0]
    assert "Sources and licences: [1] …/corpora/" in section and "licence: CC BY-SA 4.0" in section


def test_provenance_config_hashes_versions_and_no_machine_paths(report) -> None:
    results, _, md, _ = report
    assert dump_suite(results.suite).strip() in md
    assert "hash1abc…" in md  # the first 8 hex digits in Table 1 (the full hash in tasks.csv)
    assert "torch" in md and "2.13.0" in md
    assert "1 h 02 min" in md  # wall_seconds 3725
    assert "bit-identical only on the same hardware and library build" in md
    assert "/home/someone" not in md
    assert "…/corpora/chabsa.tsv" in md


def test_one_seed_says_intervals_cannot_be_estimated(tmp_path: Path) -> None:
    results = make_results(seeds=[7])
    paths = write_report(results, tmp_path / "one-seed")
    md = paths.markdown.read_text(encoding="utf-8")
    verdict = md.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    # said once in the verdict, instead of [n/a] after every number
    assert verdict.count("With one seed the tables have no intervals: they show point values.") == 1
    assert "[n/a]" not in verdict and "n/a" not in md.split("## Findings", 1)[1].split("\n## ", 1)[0]
    t2 = find_table(md, "task", "macro-F1")
    assert cell(t2, "chabsa", "accuracy") == "0.700"  # no ± with one seed
    ev = find_table(md, "selector", "top1")
    assert cell(ev, "random", "top1 (↑)") == "0.333 [n/a]"
    assert "Whether the best transfer beats no transfer cannot be judged with one seed." in verdict
    tests = find_table(md, "target", "beats no transfer")
    assert cell(tests, "chabsa", "beats no transfer") == "n/a"
    assert cell(tests, "chabsa", "mean gain [CI]") == "+0.110 [n/a]"
    assert "intervals disjoint" not in md and "intervals overlap" not in md


def test_missing_tables_are_reported_as_not_run(tmp_path: Path) -> None:
    full = make_results()
    results = RunResults(suite=full.suite, tasks=full.tasks, finetune=full.finetune)
    write_report(full, tmp_path / "finetune-only")  # an earlier, complete report in the same folder
    paths = write_report(results, tmp_path / "finetune-only")
    md = paths.markdown.read_text(encoding="utf-8")
    assert not list((tmp_path / "finetune-only" / "figures").glob("*.png"))  # stale figures removed
    assert not (tmp_path / "finetune-only" / "table4_gain.csv").exists()
    assert "0.710 ± 0.014" in md  # Table 2 is there
    for what in ("Raw cosine similarity: not run", "Transfer grid: not run", "Task distances: not run"):
        assert what in md
    assert "Evaluation of source selectors: not run" in md
    assert "Baseline tests: not run" in md
    assert "The transfer grid was not run." in md
    assert paths.figures == {}
    assert paths.html.is_file()
    assert "table4_transfer" not in paths.tables
    # nothing at all but the suite
    paths = write_report(RunResults(suite=full.suite), tmp_path / "empty")
    md = paths.markdown.read_text(encoding="utf-8")
    assert "Fine-tuning: not run" in md and "Task table: not run" in md


def test_report_round_trips_through_saved_csvs(report, tmp_path: Path) -> None:
    _, paths, md, _ = report
    reloaded = RunResults.load(paths.folder)
    again = write_report(reloaded, tmp_path / "again").markdown.read_text(encoding="utf-8")
    assert again == md


def test_orders_and_formatting_helpers() -> None:
    assert metric_order(["spearman", "regret@3", "ndcg@3", "top1", "regret@1", "zeta"]) == [
        "top1",
        "regret@1",
        "regret@3",
        "ndcg@3",
        "spearman",
        "zeta",
    ]
    results = make_results()
    assert selector_order(results, ["random", "logme", "task2vec:asymmetric", "task2vec:cosine", "zz"]) == [
        "task2vec:cosine",
        "task2vec:asymmetric",
        "random",
        "logme",
        "zz",
    ]
    assert fmt_mean_std(0.5, float("nan")) == "0.500"
    assert fmt(-0.0001, 3, signed=True) == "0.000"
    assert markdown_table(Table(["a|b", "c"], [[Cell("_x_y*", bold=True), Cell("[1, 2]")]])) == (
        "| a\\|b | c |\n| :--- | ---: |\n| **\\_x_y\\*** | [1, 2] |"
    )


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # scipy's t-test on near-equal gains
def test_report_of_the_real_evaluation_tables(tmp_path: Path) -> None:
    """The evaluation module's own output (metric names, random:expected, extra columns) renders."""
    from jtask2vec.evaluation import baseline_tests, evaluate_selectors

    results = make_results(seeds=[0, 1, 2])
    transfer, scores = results.transfer, results.scores.copy()
    scores["score"] += np.random.default_rng(0).normal(0, 0.1, len(scores))
    evaluation, per_target = evaluate_selectors(
        scores, transfer, bootstrap_samples=200, ci_method="bootstrap"
    )
    results.scores = scores
    results.evaluation, results.per_target = evaluation, per_target
    results.baseline_tests = baseline_tests(transfer)
    md = write_report(results, tmp_path / "real").markdown.read_text(encoding="utf-8")
    ev = find_table(md, "selector", "top1_hit")
    metrics = [h.split(" ")[0] for h in ev[0][1:]]
    assert (
        metrics[:4] == ["top1_hit", "top1_tied_hit", "regret@1", "regret_rel@1"]
        and metrics[-1] == "n_sources"
    )
    assert [r[0] for r in ev[1:]][:3] == ["task2vec:cosine", "task2vec:normalized-cosine", "random"]
    assert "random:expected" in [r[0] for r in ev[1:]]
    row = evaluation[(evaluation["selector"] == "random") & (evaluation["metric"] == "regret@1")].iloc[0]
    assert cell(ev, "random", "regret@1 (↓)") == fmt_interval(row["mean"], row["ci_low"], row["ci_high"])
    assert "On top1_hit (higher is better)" in md and "On regret@1 (lower is better)" in md
    assert "beats, Bonferroni-adjusted" in md
    assert "With only 3 seeds, intervals by percentile bootstrap" in md
    assert "paired over targets" in md and "Holm" in md  # the best distance vs the other selectors
    # ... as a table, one row per comparison, its numbers those of the claims (not a wall of text)
    found = collect(results).claims
    comparisons = find_table(md, "comparison", "Holm p")
    assert len(comparisons) - 1 == len(found.selectors) > 0
    rows = {(r[0], r[1]): r[2:] for r in comparisons[1:]}
    for c in found.selectors:
        difference, holm, _ = rows[(f"{c.subject} vs {c.other}", c.metric)]
        assert difference == fmt_interval(c.mean_diff, c.ci_low, c.ci_high, signed=True)
        assert holm == fmt(c.p_adjusted)
    assert "critical difference" in md and "figures/cd_diagram.png" in md  # Friedman + Nemenyi, the diagram
    friedman = find_table(md, "metric", "Friedman p")
    assert [r[0] for r in friedman[1:]] == list(found.friedman)
    for row in friedman[1:]:
        f = found.friedman[row[0]]
        assert row[1:3] == [fmt(f.p_value), str(f.n_targets)]
        assert row[4] == fmt(f.critical_difference, 2)
        best = min(f.mean_ranks, key=f.mean_ranks.get)
        assert row[3].split(" ")[0] == best
    assert "statistically tied with the best" in md


def test_ties_and_order(tmp_path: Path) -> None:
    """Tied best sources are all bold and all named; baseline tests follow the suite's task order."""
    results = make_results()
    tr = results.transfer
    tie = (tr["target"] == "jrte-pn") & (tr["source"].isin(["chabsa", "jrte-part1"]))
    tr.loc[tie, "accuracy"] = 0.87
    results.baseline_tests = results.baseline_tests.iloc[::-1].reset_index(drop=True)
    ev = results.evaluation
    ev.loc[
        (ev["selector"] == "task2vec:cosine") & (ev["metric"] == "top1"), ["mean", "ci_low", "ci_high"]
    ] = 1.0
    ft = results.finetune
    ft.loc[ft["task"] == "chabsa", "macro_f1"] = [0.44, 0.46]
    md = write_report(results, tmp_path / "ties").markdown.read_text(encoding="utf-8")
    assert (
        "On top1 (higher is better), task2vec:cosine and task2vec:normalized-cosine tie as the best distance"
        in md
    )
    assert "at or below 0.5, the most a constant prediction can reach, for 1 task (chabsa 0.450)" in md
    verdict = md.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    assert "Caveats: 1 task barely learned (macro-F1 ≤ 0.5: chabsa); every source ties on jrte-pn" in verdict
    assert "| jrte-pn | 0.810 ± 0.014 | — | **0.870 ± 0.000** | **0.870 ± 0.000** |" in md
    picks = find_table(md, "target", "best source (accuracy)")
    assert cell(picks, "jrte-pn", "best source (accuracy)") == "2 tied: chabsa, jrte-part1† (0.870)"
    tests = find_table(md, "target", "beats no transfer")
    assert [r[0] for r in tests[1:]] == ["jrte-pn", "chabsa", "jrte-part1†"]
    assert "For 1 of 3 targets (jrte-pn) every source gives the same mean accuracy after transfer" in md


def test_pivots_match_a_plain_loop_reference() -> None:
    """Table 4 and the similarity matrix against statistics.mean/stdev over explicit per-cell lists."""
    import statistics

    from jtask2vec.report.tables import similarity_matrix, table4_gain, table4_transfer

    rng = np.random.default_rng(1)
    names = ["t0", "t1", "t2", "t3"]
    results = RunResults(
        suite=make_suite().model_copy(update={"tasks": [TaskSpec(name=n, loader="x") for n in names]})
    )
    rows, dist = [], []
    for seed in range(4):
        for target in names:
            base = float(rng.uniform(0.5, 0.9))
            rows.append(
                {"source": BASELINE_SOURCE, "target": target, "seed": seed, "accuracy": base, "gain": 0.0}
            )
            for source in names:
                if source != target and rng.random() > 0.25:  # some cells have fewer seeds, some none
                    acc = float(rng.uniform(0.4, 0.95))
                    rows.append(
                        {"source": source, "target": target, "seed": seed, "accuracy": acc, "gain": np.nan}
                    )
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                dist.append(
                    {"distance": "cosine", "seed": seed, "a": a, "b": b, "value": float(rng.uniform(0, 0.1))}
                )
    results.transfer = pd.DataFrame(rows)
    results.distances = pd.DataFrame(dist)
    acc, gain, sim = table4_transfer(results), table4_gain(results), similarity_matrix(results, "cosine")
    base = {(r["target"], r["seed"]): r["accuracy"] for r in rows if r["source"] == BASELINE_SOURCE}
    for target in names:
        for source in [BASELINE_SOURCE, *names]:
            accs = [r["accuracy"] for r in rows if r["target"] == target and r["source"] == source]
            gains = [
                r["accuracy"] - base[(target, r["seed"])]
                for r in rows
                if r["target"] == target and r["source"] == source
            ]
            if source in acc.mean.columns:
                if not accs:
                    assert np.isnan(acc.mean.at[target, source]) and acc.n.at[target, source] == 0
                    continue
                assert acc.mean.at[target, source] == pytest.approx(statistics.mean(accs), abs=1e-12)
                assert acc.n.at[target, source] == len(accs)
                if len(accs) > 1:
                    assert acc.std.at[target, source] == pytest.approx(statistics.stdev(accs), abs=1e-12)
                else:
                    assert np.isnan(acc.std.at[target, source])
            if source != BASELINE_SOURCE and accs:
                assert gain.mean.at[target, source] == pytest.approx(statistics.mean(gains), abs=1e-12)
        for other in names:
            values = [1 - d["value"] for d in dist if {d["a"], d["b"]} == {target, other} and target != other]
            expected = statistics.mean(values) if values else 1.0
            assert sim.mean.at[target, other] == pytest.approx(expected, abs=1e-12)
