"""End to end: `jtask2vec run` on a tiny suite (tiny random BERT, synthetic tasks), every artifact checked."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import load_suite
from jtask2vec.pipeline import Pipeline, rank_sources_for_target, run_suite
from jtask2vec.results import BASELINE_SOURCE, RunResults
from jtask2vec.store.manifest import read_events

TINY_SUITE = {
    "name": "tiny",
    "description": "three synthetic tasks on the tiny random BERT",
    "tasks": [
        {"name": "hotel", "loader": "synthetic", "options": {"n": 160, "seed": 1, "style": "hotel"}},
        {"name": "food", "loader": "synthetic", "options": {"n": 160, "seed": 2, "style": "food"}},
        {
            "name": "news",
            "loader": "synthetic",
            "options": {"n": 160, "seed": 3, "style": "news", "signal": "topic"},
        },
    ],
    "probe": {"name": "tiny-random-bert", "max_length": 32},
    "training": {"epochs": 4, "batch_size": 16, "learning_rate": 3e-3},
    "fisher": {"max_examples": 24, "batch_size": 8},
    "evaluation": {"bootstrap_samples": 200},
    "seeds": [0, 1],
}


@pytest.fixture(scope="module")
def tiny_suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_SUITE, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished_run(tiny_suite_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResults]:
    runs = tmp_path_factory.mktemp("runs")
    results = run_suite(load_suite(tiny_suite_file), runs, progress=False)
    return runs, results


def test_every_table_is_filled(finished_run: tuple[Path, RunResults]) -> None:
    _, results = finished_run
    tasks, seeds = ["hotel", "food", "news"], [0, 1]
    assert sorted(results.finetune["task"].unique()) == sorted(tasks)
    assert len(results.finetune) == len(tasks) * len(seeds)
    # 3 targets x (2 sources + baseline) x 2 seeds
    assert len(results.transfer) == 3 * 3 * 2
    assert (results.transfer["source"] == BASELINE_SOURCE).sum() == 3 * 2
    assert results.finetune["accuracy"].mean() > 0.7  # the tiny probe learns the synthetic tasks
    baseline_gain = results.transfer.loc[results.transfer["source"] == BASELINE_SOURCE, "gain"]
    assert (baseline_gain.abs() < 1e-12).all()
    distances = set(results.distances["distance"])
    assert distances == {"cosine", "normalized-cosine", "rms-cosine", "asymmetric", "symmetric-kl"}
    selectors = set(results.scores["selector"])
    assert {f"task2vec:{d}" for d in distances} <= selectors
    from jtask2vec.selection import SELECTORS

    assert set(SELECTORS) <= selectors  # every selector, the feature-based ones included, by default
    assert {"top1_hit", "ndcg"} <= set(results.evaluation["metric"])
    assert set(results.baseline_tests["target"]) == set(tasks)
    assert list(results.tasks["kind"]) == ["", "", ""]  # the suite gives no kinds: empty, never guessed


def test_report_holds_the_three_tables_and_the_evaluation(finished_run: tuple[Path, RunResults]) -> None:
    runs, results = finished_run
    folder = runs / "tiny"
    for name in (
        "report.md",
        "report.html",
        "results.json",
        "finetune.csv",
        "transfer.csv",
        "evaluation.csv",
    ):
        assert (folder / name).is_file(), name
    md = (folder / "report.md").read_text(encoding="utf-8")
    for heading in ("Table 2", "Table 3", "Table 4"):
        assert heading in md
    assert "task2vec:normalized-cosine" in md
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    # the saved tables load back to the run's in-memory ones, every value exact (not the CSV vs itself)
    reloaded = RunResults.load(folder)
    for name in ("finetune", "transfer", "scores", "evaluation"):
        pd.testing.assert_frame_equal(
            getattr(reloaded, name).reset_index(drop=True),
            getattr(results, name).reset_index(drop=True),
            check_dtype=False,
            check_exact=True,
            obj=name,
        )
    assert reloaded.suite == results.suite and reloaded.environment == results.environment


def test_rerun_recomputes_nothing(finished_run: tuple[Path, RunResults], tiny_suite_file: Path) -> None:
    runs, first = finished_run
    # the suite's jobs run in worker processes (workers: auto), out of reach of monkeypatches: the store's
    # own log says what was computed (every computation claims, then publishes)
    seen = len(read_events(runs / "store"))
    again = run_suite(load_suite(tiny_suite_file), runs, progress=False, report=False)
    computed = [
        f"{e['event']} {e['kind']}/{e['key']}"
        for e in read_events(runs / "store")[seen:]
        if e["event"] in ("claim", "publish")
    ]
    assert computed == []
    pd.testing.assert_frame_equal(
        first.transfer.reset_index(drop=True), again.transfer.reset_index(drop=True), check_dtype=False
    )


def test_rank_uses_embeddings_only(finished_run: tuple[Path, RunResults], tiny_suite_file: Path) -> None:
    runs, results = finished_run
    ranking = rank_sources_for_target(load_suite(tiny_suite_file), "news", "cosine", runs, progress=False)
    assert list(ranking) and set(ranking) == {"hotel", "food"}
    assert list(ranking.values()) == sorted(ranking.values())
    expected = (
        results.distances.query("distance == 'cosine' and b == 'news' and a != 'news'")
        .groupby("a")["value"]
        .mean()
    )
    for source, value in ranking.items():
        assert value == pytest.approx(expected[source])


def test_cli_run_and_rank(finished_run: tuple[Path, RunResults], tiny_suite_file: Path) -> None:
    runs, _ = finished_run
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", "--suite", str(tiny_suite_file), "--runs-dir", str(runs), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    result = runner.invoke(
        app,
        [
            "rank",
            "--suite",
            str(tiny_suite_file),
            "--runs-dir",
            str(runs),
            "--target",
            "food",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "hotel" in result.output and "news" in result.output


def test_cli_unknown_target_is_one_line(tiny_suite_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["rank", "--suite", str(tiny_suite_file), "--runs-dir", str(tmp_path), "--target", "nope"]
    )
    assert result.exit_code == 2
    assert "no task 'nope'" in result.output
    assert "Traceback" not in result.output


def test_pipeline_stages_share_the_store(
    tiny_suite_file: Path, finished_run: tuple[Path, RunResults]
) -> None:
    runs, _ = finished_run
    pipeline = Pipeline(load_suite(tiny_suite_file), runs)
    keys = {pipeline.checkpoint_key(t, s) for t in ("hotel", "food", "news") for s in (0, 1)}
    assert len(keys) == 6
    assert all(pipeline.store.exists("finetune", k) for k in keys)
