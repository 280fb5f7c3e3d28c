"""A suite's ``compare_with``: the report of a run sets the named suites' finished runs beside it (a section
each, and the answers in the Findings), says what to run when one is missing, and changes no result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from test_report_zoo import FULL, LIMITED

from jtask2vec.config import Suite
from jtask2vec.report import write_report
from jtask2vec.report.compare import finished_runs


def _findings(md: str) -> str:
    return md.split("## Findings", 1)[1].split("\n## ", 1)[0]


def test_the_report_sets_a_compared_run_beside_this_one(tmp_path: Path) -> None:
    paths = write_report(LIMITED, tmp_path / "limited", {"full": FULL})
    md = paths.markdown.read_text(encoding="utf-8").replace("\\", "")
    # the best distances of both runs are tested together (max-T over the distances): picking the best
    # is part of the test, and 3 targets cannot show a difference (smallest p 2/2^3)
    answer = (
        "Does similarity predict transfer better in limited than in full? On spearman, task2vec:cosine goes "
        "from 0.150 [0.100, 0.200] to 0.650 [0.600, 0.700]: difference +0.500 [+0.500, +0.500], p 0.250 "
        "(sign-flip over 3 shared targets (exact), max-T over 2 selectors), not distinguishable over targets."
    )
    findings = _findings(md)
    assert answer in findings
    assert (
        "Against full: The conclusions differ on: best TASK2VEC distance on top1_hit; best TASK2VEC distance "
        "on spearman; targets whose best transfer beats no transfer." in findings
    )
    section = md.split("## Compared with full", 1)[1]
    assert "### Conclusions side by side" in section and "### Selectors in both runs" in section
    assert "| targets whose best transfer beats no transfer | 0 of 3 | 1 of 3 | **changed** |" in section
    html = paths.html.read_text(encoding="utf-8")
    assert "<h2" in html and "Compared with full" in html


def test_a_missing_compared_run_says_what_to_run(tmp_path: Path) -> None:
    md = write_report(LIMITED, tmp_path / "limited", {"full": None}).markdown.read_text(encoding="utf-8")
    hint = "No finished run of suite full in this runs folder: run jtask2vec run --suite full"
    assert hint in _findings(md)
    assert hint in md.split("## Compared with full", 1)[1]
    alone = write_report(LIMITED, tmp_path / "alone").markdown.read_text(encoding="utf-8")
    assert "Compared with" not in alone


def test_finished_runs_reads_only_finished_run_folders(tmp_path: Path) -> None:
    FULL.save(tmp_path / "full")
    (tmp_path / "half").mkdir()  # a run folder without results.json: not finished
    got = finished_runs(["full", "half", "never"], tmp_path)
    assert list(got) == ["full", "half", "never"]
    assert got["half"] is None and got["never"] is None
    assert got["full"] is not None and got["full"].suite.name == "full"
    assert got["full"].per_target.equals(FULL.per_target)


def test_a_suite_cannot_compare_with_itself() -> None:
    raw = LIMITED.suite.model_dump(mode="json") | {"compare_with": ["limited"]}
    with pytest.raises(ValidationError, match="compare_with names the suite itself"):
        Suite.model_validate(raw)


@pytest.mark.slow
def test_report_command_adds_the_comparisons_of_the_suite(tmp_path: Path) -> None:
    FULL.save(tmp_path / "full")
    LIMITED.save(tmp_path / "limited")
    suite_file = tmp_path / "limited.yaml"
    suite = LIMITED.suite.model_dump(mode="json") | {"compare_with": ["full", "missing"]}
    suite_file.write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
    cmd = [sys.executable, "-m", "jtask2vec", "report", "--suite", str(suite_file)]
    cmd += ["--runs-dir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "limited" / "report.md").read_text(encoding="utf-8")
    assert "## Compared with full" in md and "## Compared with missing" in md
    assert "not distinguishable over targets" in md.replace("\\", "")


def test_with_a_target_regime_the_similarity_captions_say_what_rows_and_columns_are(tmp_path: Path) -> None:
    from test_report import make_results

    from jtask2vec.config import RegimeConfig

    note = "columns are the tasks as targets, embedded from their fine-tune in the target regime"
    plain = make_results()
    md = write_report(plain, tmp_path / "plain").markdown.read_text(encoding="utf-8")
    assert note not in md
    limited = make_results()
    limited.suite = limited.suite.model_copy(
        update={"source_regime": RegimeConfig(train_size=4000), "target_regime": RegimeConfig(train_size=500)}
    )
    md = write_report(limited, tmp_path / "limited").markdown.read_text(encoding="utf-8")
    table3 = md.split("## Table 3", 1)[1].split("\n## ", 1)[0]
    assert f"on at most 4,000 training examples); {note} (at most 500 training examples)" in table3
    heatmaps = md.split("## Task similarity for each distance", 1)[1].split("\n## ", 1)[0]
    n_heatmaps = len(limited.distances["distance"].unique())
    assert heatmaps.count(note) == 2 * n_heatmaps  # each heatmap: its alt text and its caption


def test_findings_judge_a_distance_against_chance_over_targets(tmp_path: Path) -> None:
    """A distance stable over seeds but measured on 3 targets is not called better than chance (the old
    seed-interval rule called it); on 8 targets, better on every one, it is (exact p = 2/2^8); without
    random:expected nothing is judged against chance (no fallback to the random selector's one draw)."""
    from test_report_zoo import _run

    from jtask2vec.report.data import collect
    from jtask2vec.report.findings import distance_findings

    spearman = {"task2vec:cosine": [0.60, 0.70, 0.65], "random": [0.45, -0.30, 0.60]}
    top1 = {"task2vec:cosine": 0.6, "random": 0.4, "random:expected": 0.25}
    three = _run("x", {**spearman, "random:expected": [0.0, 0.0, 0.0]}, top1, [False] * 3)
    data = collect(three)
    found = {f.metric: f for f in distance_findings(data.evaluation, data.claims)}["spearman"]
    assert (found.random_name, found.versus_random) == ("random:expected", "not distinguishable")
    assert found.chance.n_targets == 3 and found.chance.p_value == pytest.approx(0.25)
    eight = _run("x", {**spearman, "random:expected": [0.0, 0.0, 0.0]}, top1, [False] * 8, "abcdefgh")
    data = collect(eight)
    found = {f.metric: f for f in distance_findings(data.evaluation, data.claims)}["spearman"]
    assert found.versus_random == "better" and found.chance.p_value == pytest.approx(2 / 2**8)
    text = write_report(eight, tmp_path / "x").markdown.read_text(encoding="utf-8")
    assert "over 8 targets, p 0.008 (sign-flip over 8 targets (exact)): better than chance." in text
    verdict = text.split("## Verdict", 1)[1].split("\n## ", 1)[0]
    assert "Over 8 targets, the best distance is better than chance on spearman" in verdict
    without = _run("x", spearman, top1, [False] * 3)
    data = collect(without)
    found = {f.metric: f for f in distance_findings(data.evaluation, data.claims)}["spearman"]
    assert (found.random_name, found.versus_random) == ("", "")


def test_the_comparison_names_what_differs_between_the_designs(tmp_path: Path) -> None:
    """A changed conclusion is read against what changed: the probe, sizes, seeds, recipe."""
    from dataclasses import replace

    from jtask2vec.report.compare import design_differences

    suite = FULL.suite.model_copy(
        update={
            "probe": FULL.suite.probe.model_copy(update={"name": "me5-small", "max_length": 64}),
            "seeds": [0],
            "training": FULL.suite.training.model_copy(
                # the head rate set to the encoder's is what unset means: no difference to name
                update={
                    "epochs": 1,
                    "batch_size": 8,
                    "class_weight": "balanced",
                    "head_learning_rate": FULL.suite.training.learning_rate,
                }
            ),
        }
    )
    me5 = replace(FULL, suite=suite)
    assert design_differences(FULL, FULL) == []
    assert design_differences(FULL, me5) == [
        f"probe {FULL.suite.probe.name} → me5-small",
        f"max_length {FULL.suite.probe.max_length} → 64",
        f"seeds {len(FULL.suite.seeds)} → 1",
        f"epochs {FULL.suite.training.epochs} → 1",
        f"batch size {FULL.suite.training.batch_size} → 8",
        "class weights none → balanced",
    ]
    md = write_report(me5, tmp_path / "me5", {"full": FULL}).markdown.read_text(encoding="utf-8")
    assert f"Against full (full → this run: probe {FULL.suite.probe.name} → me5-small;" in (
        _findings(md.replace("\\", ""))
    )
