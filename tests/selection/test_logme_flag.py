"""LogME that did not converge is flagged in its store artifact, the scores table, the report and the
console, also when the value comes back from the cache."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import load_suite
from jtask2vec.pipeline import Pipeline, run_suite
from jtask2vec.results import FLAG_COLUMN, RunResults

SUITE = {
    "name": "logme-flag",
    "tasks": [
        {"name": "hotel", "loader": "synthetic", "options": {"n": 80, "seed": 1, "style": "hotel"}},
        {"name": "food", "loader": "synthetic", "options": {"n": 80, "seed": 2, "style": "food"}},
        {"name": "news", "loader": "synthetic", "options": {"n": 80, "seed": 3, "style": "news"}},
    ],
    "probe": {"name": "tiny-random-bert", "max_length": 16},
    "training": {"epochs": 1, "batch_size": 16, "learning_rate": 3e-3},
    "fisher": {"max_examples": 8, "batch_size": 8},
    "evaluation": {"distances": ["cosine"], "baselines": ["logme"], "bootstrap_samples": 100},
    "seeds": [0],
    "executor": {"workers": 1},  # in this process: the patched iteration limit must reach LogME
}
NOTE = "logme: 6 of 6 scores are flagged 'not converged'"


@pytest.mark.slow
def test_not_converged_logme_is_flagged_through_the_cache_into_report_and_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    suite = load_suite(suite_file)
    runs = tmp_path / "runs"
    with monkeypatch.context() as patch:
        # one fixed-point step: never converged
        patch.setattr(importlib.import_module("jtask2vec.selection.logme"), "MAX_ITER", 1)
        with pytest.warns(RuntimeWarning, match="did not converge in 1 iterations"):
            first = run_suite(suite, runs, progress=False, report=False)
    logme_rows = first.scores[first.scores["selector"] == "logme"]
    assert len(logme_rows) == 6 and (logme_rows[FLAG_COLUMN] == "not converged").all()
    others = first.scores[first.scores["selector"] != "logme"]
    assert (others[FLAG_COLUMN] == "").all()

    pipeline = Pipeline(suite, runs)
    graph = pipeline.graph
    job = graph.scores[("hotel", "food", 0)]
    artifact = json.loads(
        (pipeline.store.path(job.kind, job.key) / "result.json").read_text(encoding="utf-8")
    )
    stored = float(
        logme_rows.loc[(logme_rows["source"] == "hotel") & (logme_rows["target"] == "food"), "score"].iloc[0]
    )
    assert artifact["logme"]["flag"] == "not converged" and artifact["logme"]["score"] == pytest.approx(
        stored
    )

    # Second run with the real iteration limit: LogME must come from the cache, flag included.
    def fail(*args, **kwargs):
        raise AssertionError("a cached LogME score was recomputed")

    monkeypatch.setattr("jtask2vec.selection.feature_based.logme_score", fail)
    second = run_suite(suite, runs, progress=False, report=True)
    assert (second.scores.loc[second.scores["selector"] == "logme", FLAG_COLUMN] == "not converged").all()
    folder = runs / suite.name
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "logme ⚠" in md and NOTE in md and "hotel → food (seed 0)" in md
    reloaded = RunResults.load(folder)  # the CSV keeps the flag
    assert (reloaded.scores[FLAG_COLUMN].fillna("") != "").sum() == 6

    result = CliRunner().invoke(
        app, ["evaluate", "--suite", str(suite_file), "--runs-dir", str(runs), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "logme: 6 of 6 scores flagged 'not converged'" in " ".join(result.output.split())
